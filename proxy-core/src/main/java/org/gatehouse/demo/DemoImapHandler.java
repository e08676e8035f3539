package org.gatehouse.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small IMAP4rev1 subset: CAPABILITY, LOGIN, AUTHENTICATE PLAIN, LIST, SELECT/EXAMINE INBOX, FETCH and UID FETCH of
 * whole messages, NOOP, CLOSE, LOGOUT. Enough for curl and a quick look with a mail client.
 */
final class DemoImapHandler extends LineHandler {

    private static final String CAPABILITIES = "IMAP4rev1 STARTTLS AUTH=PLAIN";

    private boolean authenticated;
    private String pendingAuthTag;
    private List<byte[]> messages;

    DemoImapHandler(DemoMailServer server) {
        super(server);
    }

    @Override
    String greeting() {
        return "* OK [CAPABILITY " + CAPABILITIES
                + "] Gatehouse DEMO IMAP server ready (in memory, not a real mailbox)";
    }

    @Override
    String tooLong() {
        return "* BYE line too long";
    }

    @Override
    void line(ChannelHandlerContext ctx, ByteBuf raw) {
        String line = text(raw);
        server.received("imap", line);
        if (pendingAuthTag != null) {
            String tag = pendingAuthTag;
            pendingAuthTag = null;
            login(ctx, tag, DemoMailbox.validPlain(line));
            return;
        }
        List<String> words = words(line);
        if (words.size() < 2) {
            send(ctx, "* BAD missing tag or command");
            return;
        }
        String tag = words.get(0);
        String cmd = words.get(1).toUpperCase(Locale.ROOT);
        switch (cmd) {
            case "CAPABILITY" -> send(ctx, "* CAPABILITY " + CAPABILITIES + "\r\n" + tag + " OK CAPABILITY completed");
            case "NOOP" -> send(ctx, tag + " OK NOOP completed");
            // Advertised but not done, as by a legacy server without a certificate: the gateway must hide it.
            case "STARTTLS" -> send(ctx, tag + " BAD TLS not available");
            case "LOGOUT" -> sendAndClose(ctx, "* BYE logging out\r\n" + tag + " OK LOGOUT completed");
            case "LOGIN" -> login(ctx, tag, words.size() >= 4 && DemoMailbox.valid(words.get(2), words.get(3)));
            case "AUTHENTICATE" -> {
                if (words.size() < 3 || !words.get(2).equalsIgnoreCase("PLAIN")) {
                    send(ctx, tag + " NO unsupported mechanism");
                } else if (words.size() > 3) {
                    login(ctx, tag, DemoMailbox.validPlain(words.get(3)));
                } else {
                    pendingAuthTag = tag;
                    send(ctx, "+ ");
                }
            }
            default -> {
                if (!authenticated) {
                    send(ctx, tag + " NO not logged in");
                } else {
                    authenticatedCommand(ctx, tag, cmd, words);
                }
            }
        }
    }

    private void login(ChannelHandlerContext ctx, String tag, boolean ok) {
        authenticated = ok;
        send(ctx,
                ok
                        ? tag + " OK [CAPABILITY " + CAPABILITIES + "] logged in"
                        : tag + " NO [AUTHENTICATIONFAILED] invalid credentials");
    }

    private void authenticatedCommand(ChannelHandlerContext ctx, String tag, String cmd, List<String> words) {
        switch (cmd) {
            case "LIST", "LSUB" ->
                send(ctx, "* " + cmd + " (\\HasNoChildren) \"/\" INBOX\r\n" + tag + " OK " + cmd + " completed");
            case "SELECT", "EXAMINE" -> {
                if (words.size() < 3 || !words.get(2).equalsIgnoreCase("INBOX")) {
                    send(ctx, tag + " NO [NONEXISTENT] only INBOX exists here");
                    return;
                }
                messages = server.mailbox().messages();
                send(ctx, "* " + messages.size() + " EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Deleted)\r\n"
                        + "* OK [UIDVALIDITY 1] UIDs valid\r\n* OK [UIDNEXT " + (messages.size() + 1) + "] next UID\r\n"
                        + tag + " OK [" + (cmd.equals("SELECT") ? "READ-WRITE" : "READ-ONLY") + "] " + cmd
                        + " completed");
            }
            case "CLOSE", "UNSELECT" -> {
                messages = null;
                send(ctx, tag + " OK " + cmd + " completed");
            }
            case "FETCH" -> fetch(ctx, tag, words, 2);
            case "UID" -> {
                if (words.size() > 2 && words.get(2).equalsIgnoreCase("FETCH")) {
                    fetch(ctx, tag, words, 3);
                } else {
                    send(ctx, tag + " BAD only UID FETCH is supported");
                }
            }
            default -> send(ctx, tag + " BAD unknown command");
        }
    }

    /** FETCH of one message number (equal to its UID here), whole message whatever was asked for. */
    private void fetch(ChannelHandlerContext ctx, String tag, List<String> words, int setIndex) {
        if (messages == null) {
            send(ctx, tag + " BAD no mailbox selected");
            return;
        }
        int n;
        try {
            n = Integer.parseInt(words.size() > setIndex ? words.get(setIndex) : "");
        } catch (NumberFormatException e) {
            send(ctx, tag + " BAD only single message numbers are supported");
            return;
        }
        if (n < 1 || n > messages.size()) {
            send(ctx, tag + " OK FETCH completed");
            return;
        }
        byte[] message = messages.get(n - 1);
        ctx.write(ByteBufUtil.writeAscii(ctx.alloc(),
                "* " + n + " FETCH (UID " + n + " BODY[] {" + message.length + "}\r\n"));
        ctx.write(Unpooled.wrappedBuffer(message));
        ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), ")\r\n" + tag + " OK FETCH completed\r\n"));
    }

    /** Splits on spaces, keeping "quoted strings" (with \" and \\ escapes) as one word without their quotes. */
    static List<String> words(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean quoted = false;
        boolean inWord = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '\\' && i + 1 < line.length()) {
                    word.append(line.charAt(++i));
                } else if (c == '"') {
                    quoted = false;
                } else {
                    word.append(c);
                }
            } else if (c == '"') {
                quoted = true;
                inWord = true;
            } else if (c == ' ') {
                if (inWord) {
                    out.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            out.add(word.toString());
        }
        return out;
    }
}
