package org.gatehouse.mail;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import org.gatehouse.login.LoginGuard;
import org.gatehouse.login.LoginGuard.Verdict;
import org.gatehouse.session.Session;

/**
 * SMTP (RFC 5321) up to authentication: STARTTLS (RFC 3207), the EHLO keyword list, AUTH (RFC 4954), and enough of
 * DATA and BDAT (RFC 3030) to never read a message as commands. Replies come in command order (RFC 2920 pipelining).
 */
public final class SmtpInspector extends MailInspector {

    private static final Set<String> BARE_COMMANDS = Set.of("DATA", "QUIT", "RSET", "NOOP", "HELP", "STARTTLS", "TURN");
    /** More lines than any EHLO reply has; bounds what is held while one is rewritten. */
    private static final int MAX_EHLO_LINES = 100;

    private enum Kind {
        /** One reply, possibly multi-line, relayed as it is. */
        SINGLE,
        /** The EHLO reply: its keyword lines are filtered. */
        EHLO,
        /** DATA: 354 means the message follows. */
        DATA,
        /** AUTH with a mechanism: 334 challenges, then 235 (logged in) or an error. */
        AUTH
    }

    private static final class Command {
        final Kind kind;
        final List<String> lines = new ArrayList<>();

        Command(Kind kind) {
            this.kind = kind;
        }
    }

    private enum Input {
        COMMANDS,
        /** Client lines are responses of a forwarded AUTH. */
        SASL,
        /** DATA was sent: held until the backend says whether the message may follow. */
        AWAITING_DATA_REPLY,
        /** The message, relayed until its terminating dot. */
        MESSAGE,
        /** A BDAT chunk, relayed by count. */
        CHUNK
    }

    private Input input = Input.COMMANDS;
    private DotTerminator messageEnd;
    private long chunkRemaining;

    public SmtpInspector(Session session, LoginGuard guard, Supplier<ChannelHandler> startTls) {
        super(session, guard, startTls);
        expect(new Command(Kind.SINGLE)); // the greeting
    }

    // ---- client commands --------------------------------------------------------------------------------------------

    @Override
    protected void decodeClient(ChannelHandlerContext ctx, ByteBuf in) {
        while (!done() && !finishing() && in.isReadable()) {
            switch (input) {
                case AWAITING_DATA_REPLY -> {
                    return;
                }
                case MESSAGE -> {
                    int length = messageEnd.scan(in);
                    if (length < 0) {
                        forward(ctx, in.readRetainedSlice(in.readableBytes()));
                        return;
                    }
                    forward(ctx, in.readRetainedSlice(length));
                    input = Input.COMMANDS;
                    expect(new Command(Kind.SINGLE)); // the reply to the message
                }
                case CHUNK -> {
                    int length = (int) Math.min(chunkRemaining, in.readableBytes());
                    forward(ctx, in.readRetainedSlice(length));
                    chunkRemaining -= length;
                    if (chunkRemaining == 0) {
                        input = Input.COMMANDS;
                    }
                }
                default -> {
                    ByteBuf raw = readLine(ctx, in, true);
                    if (raw == null) {
                        return;
                    }
                    command(ctx, in, raw);
                }
            }
        }
    }

    private void command(ChannelHandlerContext ctx, ByteBuf in, ByteBuf raw) {
        String line = lineText(raw);
        if (input == Input.SASL) {
            saslResponse(line);
            forward(ctx, raw);
            return;
        }
        if (refusedSaslResponse(ctx, raw, line, BARE_COMMANDS)) {
            return;
        }
        String[] words = line.split(" ", 3);
        String verb = words[0].toUpperCase(Locale.ROOT);
        switch (verb) {
            case "EHLO" -> forward(ctx, raw, Kind.EHLO);
            case "STARTTLS" -> {
                raw.release();
                if (offersStarttls()) {
                    startTls(ctx, in, "220 2.0.0 Ready to start TLS\r\n");
                } else if (tlsActive) {
                    reply(ctx, "503 5.5.1 TLS already active\r\n");
                } else {
                    reply(ctx, "502 5.5.1 STARTTLS is not offered on this connection\r\n");
                }
            }
            case "AUTH" -> auth(ctx, raw, words.length > 1 ? words[1] : "", words.length > 2 ? words[2] : null);
            case "DATA" -> {
                input = Input.AWAITING_DATA_REPLY;
                forward(ctx, raw, Kind.DATA);
            }
            case "BDAT" -> chunk(ctx, raw, words);
            case "MAIL" -> {
                forward(ctx, raw, Kind.SINGLE);
                if (tlsActive) {
                    // Encrypted, and past EHLO and AUTH: nothing left to filter or refuse in this session.
                    finish(ctx);
                }
            }
            default -> forward(ctx, raw, Kind.SINGLE);
        }
    }

    private void forward(ChannelHandlerContext ctx, ByteBuf raw, Kind kind) {
        expect(new Command(kind));
        forward(ctx, raw);
    }

    private void chunk(ChannelHandlerContext ctx, ByteBuf raw, String[] words) {
        long size;
        try {
            size = words.length > 1 ? Long.parseLong(words[1]) : -1;
        } catch (NumberFormatException e) {
            size = -1;
        }
        if (size < 0) {
            // Without its size, the chunk that follows cannot be told from commands.
            raw.release();
            violation(ctx, "bad-bdat", "BDAT without a valid chunk size");
            return;
        }
        forward(ctx, raw, Kind.SINGLE);
        if (size > 0) {
            chunkRemaining = size;
            input = Input.CHUNK;
        }
    }

    private void auth(ChannelHandlerContext ctx, ByteBuf raw, String mechanism, String initialResponse) {
        if (saslStart("AUTH", mechanism.toUpperCase(Locale.ROOT), initialResponse) == Verdict.REFUSE) {
            raw.release();
            reply(ctx, offersStarttls()
                    ? "530 5.7.0 Must issue a STARTTLS command first\r\n"
                    : "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
            return;
        }
        input = Input.SASL;
        forward(ctx, raw, Kind.AUTH);
    }


    @Override
    protected String lineTooLong() {
        return "500 5.5.2 Line too long, closing connection\r\n";
    }

    @Override
    protected String violationReply(String what) {
        return "421 4.7.0 Closing connection: " + what + "\r\n";
    }

    // ---- backend replies --------------------------------------------------------------------------------------------

    @Override
    protected void decodeBackend(ChannelHandlerContext ctx, ByteBuf out) {
        while (!done() && out.isReadable()) {
            if (input == Input.MESSAGE || input == Input.CHUNK) {
                // The server answers while the gateway still reads a message: it saw an end the gateway did not.
                violation(ctx, "smtp-data-desync", "the server ended the message early");
                return;
            }
            ByteBuf raw = readLine(ctx, out, false);
            if (raw == null) {
                return;
            }
            Command command = (Command) head();
            if (command == null) {
                emit(ctx, raw); // unsolicited: a 421 before the server closes, say
                continue;
            }
            String line = lineText(raw);
            boolean last = line.length() < 4 || line.charAt(3) != '-';
            if (command.kind == Kind.EHLO) {
                raw.release();
                command.lines.add(line);
                if (last) {
                    emit(ctx, rewriteEhlo(command.lines));
                    answered(ctx, command);
                } else if (command.lines.size() > MAX_EHLO_LINES) {
                    violation(ctx, "backend-ehlo-too-long", "the server's EHLO reply is too long");
                }
                continue;
            }
            emit(ctx, raw);
            if (last) {
                completed(ctx, command, line);
            }
        }
    }

    private void completed(ChannelHandlerContext ctx, Command command, String line) {
        String code = line.length() >= 3 ? line.substring(0, 3) : "";
        switch (command.kind) {
            case DATA -> {
                answered(ctx, command);
                if (code.equals("354")) {
                    messageEnd = new DotTerminator();
                    input = Input.MESSAGE;
                } else {
                    input = Input.COMMANDS;
                }
                resumeClient(ctx);
            }
            case AUTH -> {
                if (code.equals("334")) {
                    return; // a challenge: the exchange goes on
                }
                input = Input.COMMANDS;
                saslEnded();
                answered(ctx, command);
                if (code.equals("235")) {
                    finish(ctx);
                }
            }
            default -> answered(ctx, command);
        }
    }

    /** The EHLO reply the client should see: no STARTTLS but the gateway's, no mechanism the policy refuses. */
    private String rewriteEhlo(List<String> lines) {
        String first = lines.get(0);
        String code = first.length() >= 3 ? first.substring(0, 3) : "250";
        if (!code.startsWith("2")) {
            return join(code, lines.stream().map(l -> l.length() > 4 ? l.substring(4) : "").toList());
        }
        List<String> texts = new ArrayList<>();
        texts.add(first.length() > 4 ? first.substring(4) : "");
        for (String line : lines.subList(1, lines.size())) {
            String text = line.length() > 4 ? line.substring(4) : "";
            String keyword = text.split("[ =]", 2)[0].toUpperCase(Locale.ROOT);
            if (keyword.equals("STARTTLS")) {
                continue; // the backend's own: TLS is the gateway's to offer
            }
            if (keyword.equals("AUTH")) {
                // "AUTH PLAIN LOGIN", or the pre-standard "AUTH=PLAIN LOGIN" old Outlook versions look for.
                String kept = text.length() > 5 ? mechanisms(text.substring(5).trim()) : "";
                if (!kept.isEmpty()) {
                    texts.add(text.substring(0, 5) + kept);
                }
                continue;
            }
            texts.add(text);
        }
        if (offersStarttls()) {
            texts.add("STARTTLS");
        }
        return join(code, texts);
    }

    private String mechanisms(String list) {
        StringBuilder kept = new StringBuilder();
        for (String mechanism : list.split(" +")) {
            if (!mechanism.isEmpty() && guard.offers(tlsActive, mechanism)) {
                kept.append(kept.length() == 0 ? "" : " ").append(mechanism);
            }
        }
        return kept.toString();
    }

    private static String join(String code, List<String> texts) {
        StringBuilder reply = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            reply.append(code).append(i == texts.size() - 1 ? ' ' : '-').append(texts.get(i)).append("\r\n");
        }
        return reply.toString();
    }
}
