package org.gatehouse.demo;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.List;
import java.util.Locale;

/** RFC 1939 POP3 with CAPA (RFC 2449) and AUTH PLAIN (RFC 5034): enough for curl, fetchmail and mail clients. */
final class DemoPop3Handler extends LineHandler {

    private String user;
    private List<byte[]> messages;
    private boolean awaitingPlain;

    DemoPop3Handler(DemoMailServer server) {
        super(server);
    }

    @Override
    String greeting() {
        return "+OK Gatehouse DEMO POP3 server ready (in memory, not a real mailbox)";
    }

    @Override
    String tooLong() {
        return "-ERR line too long";
    }

    @Override
    void line(ChannelHandlerContext ctx, ByteBuf raw) {
        String line = text(raw);
        server.received("pop3", line);
        if (awaitingPlain) {
            awaitingPlain = false;
            login(ctx, DemoMailbox.validPlain(line));
            return;
        }
        String[] words = line.split(" ", -1);
        String cmd = words[0].toUpperCase(Locale.ROOT);
        String arg = words.length > 1 ? words[1] : "";
        switch (cmd) {
            case "CAPA" -> send(ctx, "+OK Capability list follows\r\nUSER\r\nUIDL\r\nTOP\r\nSASL PLAIN\r\nSTLS\r\n.");
            // Advertised but not done, as by a legacy server without a certificate: the gateway must hide it.
            case "STLS" -> send(ctx, "-ERR TLS not available");
            case "NOOP" -> send(ctx, "+OK");
            case "QUIT" -> sendAndClose(ctx, "+OK Bye");
            case "USER" -> {
                user = arg;
                send(ctx, "+OK send PASS");
            }
            case "PASS" ->
                login(ctx, user != null && DemoMailbox.valid(user, line.substring(Math.min(5, line.length()))));
            case "AUTH" -> {
                if (!"PLAIN".equalsIgnoreCase(arg)) {
                    send(ctx, "-ERR unsupported mechanism");
                } else if (words.length > 2) {
                    login(ctx, DemoMailbox.validPlain(words[2]));
                } else {
                    awaitingPlain = true;
                    send(ctx, "+ ");
                }
            }
            default -> transaction(ctx, cmd, words);
        }
    }

    private void login(ChannelHandlerContext ctx, boolean ok) {
        if (ok) {
            messages = server.mailbox().messages();
            send(ctx, "+OK logged in, " + messages.size() + " messages");
        } else {
            user = null;
            send(ctx, "-ERR [AUTH] invalid user name or password");
        }
    }

    private void transaction(ChannelHandlerContext ctx, String cmd, String[] words) {
        if (messages == null) {
            send(ctx, "-ERR unknown command or not logged in");
            return;
        }
        switch (cmd) {
            case "STAT" -> send(ctx, "+OK " + messages.size() + " " + messages.stream().mapToLong(m -> m.length).sum());
            case "LIST", "UIDL" -> {
                if (words.length > 1) {
                    int n = number(words[1]);
                    if (n < 1) {
                        send(ctx, "-ERR no such message");
                    } else {
                        send(ctx, "+OK " + n + " " + (cmd.equals("LIST") ? messages.get(n - 1).length : "demo-" + n));
                    }
                    return;
                }
                StringBuilder sb = new StringBuilder("+OK\r\n");
                for (int i = 0; i < messages.size(); i++) {
                    sb.append(i + 1).append(' ').append(cmd.equals("LIST") ? messages.get(i).length : "demo-" + (i + 1))
                            .append("\r\n");
                }
                send(ctx, sb.append('.').toString());
            }
            case "RETR", "TOP" -> {
                int n = words.length > 1 ? number(words[1]) : -1;
                if (n < 1) {
                    send(ctx, "-ERR no such message");
                    return;
                }
                byte[] message = messages.get(n - 1);
                int bodyLines = cmd.equals("TOP") && words.length > 2 ? Math.max(0, number(words[2], 0)) : -1;
                send(ctx, "+OK " + message.length + " octets");
                ctx.writeAndFlush(DotStuffing.stuff(message, bodyLines));
            }
            case "DELE", "RSET" -> send(ctx, "+OK");
            default -> send(ctx, "-ERR unknown command");
        }
    }

    private int number(String word) {
        int n = number(word, -1);
        return n >= 1 && n <= messages.size() ? n : -1;
    }

    private static int number(String word, int otherwise) {
        try {
            return Integer.parseInt(word);
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }
}
