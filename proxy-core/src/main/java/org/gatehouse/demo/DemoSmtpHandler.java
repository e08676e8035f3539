package org.gatehouse.demo;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.io.ByteArrayOutputStream;
import java.util.Locale;

/**
 * RFC 5321 SMTP with AUTH PLAIN and LOGIN (RFC 4954): every message accepted is delivered to the demo mailbox.
 */
final class DemoSmtpHandler extends LineHandler {

    static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

    private enum State {
        COMMAND,
        DATA,
        AUTH_PLAIN,
        AUTH_LOGIN_USER,
        AUTH_LOGIN_PASSWORD
    }

    private State state = State.COMMAND;
    private boolean haveSender;
    private boolean haveRecipient;
    private String loginUser;
    private ByteArrayOutputStream data;

    DemoSmtpHandler(DemoMailServer server) {
        super(server);
    }

    @Override
    String greeting() {
        return "220 demo.gatehouse.test ESMTP Gatehouse DEMO SMTP server (in memory, delivers to the demo mailbox)";
    }

    @Override
    String tooLong() {
        return "500 5.5.2 line too long";
    }

    @Override
    void line(ChannelHandlerContext ctx, ByteBuf raw) {
        if (state == State.DATA) {
            dataLine(ctx, raw);
            return;
        }
        String line = text(raw);
        server.received("smtp", line);
        switch (state) {
            case AUTH_PLAIN -> authenticated(ctx, DemoMailbox.validPlain(line));
            case AUTH_LOGIN_USER -> {
                loginUser = DemoMailbox.decodeBase64(line);
                state = State.AUTH_LOGIN_PASSWORD;
                send(ctx, "334 UGFzc3dvcmQ6");
            }
            case AUTH_LOGIN_PASSWORD ->
                authenticated(ctx, DemoMailbox.valid(loginUser, DemoMailbox.decodeBase64(line)));
            default -> command(ctx, line);
        }
    }

    private void command(ChannelHandlerContext ctx, String line) {
        String upper = line.toUpperCase(Locale.ROOT);
        String verb = upper.split(" ", 2)[0];
        switch (verb) {
            case "EHLO" ->
                send(ctx, "250-demo.gatehouse.test greets you\r\n250-8BITMIME\r\n250-SIZE " + MAX_MESSAGE_BYTES
                        + "\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN");
            // Advertised but not done, as by a legacy server without a certificate: the gateway must hide it.
            case "STARTTLS" -> send(ctx, "454 4.7.0 TLS not available");
            case "HELO" -> send(ctx, "250 demo.gatehouse.test");
            case "NOOP" -> send(ctx, "250 2.0.0 OK");
            case "RSET" -> {
                haveSender = false;
                haveRecipient = false;
                send(ctx, "250 2.0.0 OK");
            }
            case "QUIT" -> sendAndClose(ctx, "221 2.0.0 Bye");
            case "AUTH" -> {
                String[] words = line.split(" ");
                String mechanism = words.length > 1 ? words[1].toUpperCase(Locale.ROOT) : "";
                if (mechanism.equals("PLAIN") && words.length > 2) {
                    authenticated(ctx, DemoMailbox.validPlain(words[2]));
                } else if (mechanism.equals("PLAIN")) {
                    state = State.AUTH_PLAIN;
                    send(ctx, "334 ");
                } else if (mechanism.equals("LOGIN")) {
                    state = State.AUTH_LOGIN_USER;
                    send(ctx, "334 VXNlcm5hbWU6");
                } else {
                    send(ctx, "504 5.5.4 unsupported mechanism");
                }
            }
            case "MAIL" -> {
                haveSender = upper.startsWith("MAIL FROM:");
                send(ctx, haveSender ? "250 2.1.0 sender OK" : "501 5.5.4 syntax: MAIL FROM:<address>");
            }
            case "RCPT" -> {
                if (!haveSender) {
                    send(ctx, "503 5.5.1 MAIL first");
                } else {
                    haveRecipient = upper.startsWith("RCPT TO:");
                    send(ctx,
                            haveRecipient
                                    ? "250 2.1.5 recipient OK (delivered to the demo mailbox)"
                                    : "501 5.5.4 syntax: RCPT TO:<address>");
                }
            }
            case "DATA" -> {
                if (!haveRecipient) {
                    send(ctx, "503 5.5.1 RCPT first");
                } else {
                    state = State.DATA;
                    data = new ByteArrayOutputStream();
                    send(ctx, "354 end data with <CRLF>.<CRLF>");
                }
            }
            default -> send(ctx, "502 5.5.2 command not implemented");
        }
    }

    private void authenticated(ChannelHandlerContext ctx, boolean ok) {
        state = State.COMMAND;
        loginUser = null;
        send(ctx, ok ? "235 2.7.0 authentication succeeded" : "535 5.7.8 authentication credentials invalid");
    }

    private void dataLine(ChannelHandlerContext ctx, ByteBuf line) {
        int length = line.readableBytes();
        if (length == 1 && line.getByte(line.readerIndex()) == '.') {
            server.mailbox().add(data.toByteArray());
            data = null;
            state = State.COMMAND;
            haveSender = false;
            haveRecipient = false;
            send(ctx, "250 2.0.0 message accepted for delivery");
            return;
        }
        if (data.size() + length > MAX_MESSAGE_BYTES) {
            sendAndClose(ctx, "552 5.3.4 message too big");
            return;
        }
        int from = line.readerIndex();
        if (length > 0 && line.getByte(from) == '.') {
            from++; // undo dot-stuffing
            length--;
        }
        byte[] bytes = new byte[length];
        line.getBytes(from, bytes);
        data.write(bytes, 0, length);
        data.write('\r');
        data.write('\n');
    }
}
