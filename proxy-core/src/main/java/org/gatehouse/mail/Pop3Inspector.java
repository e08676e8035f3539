package org.gatehouse.mail;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import org.gatehouse.login.LoginGuard;
import org.gatehouse.login.LoginGuard.Verdict;
import org.gatehouse.login.Sasl;
import org.gatehouse.session.Session;

/**
 * POP3 (RFC 1939) in the AUTHORIZATION state: STLS (RFC 2595), CAPA (RFC 2449), USER/PASS, APOP and AUTH (RFC 5034,
 * and the bare {@code AUTH} listing Outlook sends). Replies come in command order, one per command.
 */
public final class Pop3Inspector extends MailInspector {

    /** Commands without arguments: a line equal to one of them is never taken for a SASL response. */
    private static final Set<String> BARE_COMMANDS = Set.of("CAPA", "QUIT", "NOOP", "RSET", "STAT", "LIST", "UIDL",
            "STLS", "AUTH", "LAST");

    private enum Kind {
        /** One status line. */
        SINGLE,
        /** A status line, and on +OK a dot-terminated block relayed as it is (LIST, UIDL, TOP, RETR). */
        BLOCK,
        /** CAPA: a block whose lines are filtered. */
        CAPA,
        /** Bare AUTH: a block of mechanism names, filtered. */
        MECHANISMS,
        /** USER/PASS's PASS, APOP: +OK means logged in. */
        LOGIN,
        /** AUTH with a mechanism: "+ challenge" lines, then +OK (logged in) or -ERR. */
        SASL
    }

    private static final class Command {
        final Kind kind;
        boolean inBlock;
        DotTerminator block;

        Command(Kind kind) {
            this.kind = kind;
        }
    }

    /** RFC 2449: a command line, CRLF included. */
    static final int MAX_LINE_BEFORE_LOGIN = 255;

    private String user = "";
    private boolean userRefused;

    public Pop3Inspector(Session session, LoginGuard guard, Supplier<ChannelHandler> startTls) {
        super(session, guard, startTls);
        expect(new Command(Kind.SINGLE)); // the greeting
    }

    // ---- client commands --------------------------------------------------------------------------------------------

    @Override
    protected void decodeClient(ChannelHandlerContext ctx, ByteBuf in) {
        while (!done() && !finishing() && in.isReadable()) {
            if (sasl.underWay() && !sasl.clientsTurn()) {
                return; // held until the server challenges or ends the exchange
            }
            ByteBuf raw = readLine(ctx, in, true);
            if (raw == null) {
                return;
            }
            if (sasl.underWay()) {
                if (!sasl.response(CommandLines.text(raw))) {
                    refuseLogin(ctx, raw);
                    return;
                }
                forward(ctx, raw);
            } else {
                command(ctx, in, raw);
            }
        }
    }

    private void command(ChannelHandlerContext ctx, ByteBuf in, ByteBuf raw) {
        String line = CommandLines.text(raw);
        if (refusedSaslResponse(ctx, raw, line, BARE_COMMANDS)) {
            return;
        }
        Pop3Command command = Pop3Command.parse(line);
        boolean login = Pop3Command.LOGIN_KEYWORDS.contains(command.keyword());
        if (!login && raw.readableBytes() > MAX_LINE_BEFORE_LOGIN) {
            // A server reading commands in 255-octet pieces would read the tail as a command of its own.
            raw.release();
            session.meters().commandRefused("line-too-long-before-login");
            reply(ctx, "-ERR Line too long (the limit before login is " + MAX_LINE_BEFORE_LOGIN + " octets)\r\n");
            return;
        }
        String arg = command.argument();
        if (login && !command.exact()) {
            String method = switch (command.keyword()) {
                case "USER", "PASS" -> "USER/PASS";
                case "AUTH" -> Sasl.method("AUTH", "");
                default -> command.keyword();
            };
            ambiguousLogin(ctx, raw, method, refusal(), "-ERR Unknown command\r\n");
            return;
        }
        if (guard.transaction(session, tlsActive, command.keyword()) == Verdict.REFUSE) {
            raw.release();
            session.meters().commandRefused("tls-required");
            reply(ctx, "-ERR TLS required: send STLS first\r\n");
            return;
        }
        switch (command.keyword()) {
            case "STLS" -> {
                raw.release();
                stls(ctx, in);
            }
            case "CAPA" -> forward(ctx, raw, Kind.CAPA);
            case "USER" -> user(ctx, raw, arg);
            case "PASS" -> pass(ctx, raw, command.words().size() > 1 ? line.strip().substring(4).strip() : "");
            case "APOP" -> login(ctx, raw, guard.judge(tlsActive, false), "APOP", arg);
            case "AUTH" -> {
                if (arg.isEmpty()) {
                    forward(ctx, raw, Kind.MECHANISMS);
                } else {
                    auth(ctx, raw, command.mechanism(), command.secondArgument());
                }
            }
            case "LIST", "UIDL" -> forward(ctx, raw, arg.isEmpty() ? Kind.BLOCK : Kind.SINGLE);
            case "TOP", "RETR" -> forward(ctx, raw, Kind.BLOCK);
            case "XCLIENT" -> {
                if (session.identityByGateway()) {
                    raw.release();
                    session.meters().commandRefused("client-identity");
                    reply(ctx, "-ERR XCLIENT is the gateway's to send\r\n");
                } else {
                    forward(ctx, raw, Kind.SINGLE);
                }
            }
            default -> forward(ctx, raw, Kind.SINGLE);
        }
    }

    private void forward(ChannelHandlerContext ctx, ByteBuf raw, Kind kind) {
        expect(new Command(kind));
        forward(ctx, raw);
    }

    private void stls(ChannelHandlerContext ctx, ByteBuf in) {
        if (offersStarttls()) {
            startTls(ctx, in, "+OK Begin TLS negotiation\r\n");
        } else if (tlsActive) {
            reply(ctx, "-ERR TLS is already active\r\n");
        } else {
            reply(ctx, "-ERR STLS is not offered on this connection\r\n");
        }
    }

    private void user(ChannelHandlerContext ctx, ByteBuf raw, String name) {
        Verdict verdict = guard.judge(tlsActive, true);
        user = name;
        userRefused = verdict == Verdict.REFUSE;
        if (userRefused) {
            raw.release();
            guard.record(session, verdict, "USER", name);
            reply(ctx, refusal());
        } else {
            forward(ctx, raw, Kind.SINGLE);
        }
    }

    private void pass(ChannelHandlerContext ctx, ByteBuf raw, String password) {
        Verdict verdict = guard.judge(tlsActive, true);
        if (verdict == Verdict.REFUSE) {
            raw.release();
            if (!userRefused) { // one attempt is one record, even when the client sends PASS after a refused USER
                guard.record(session, verdict, "USER/PASS", user);
            }
            userRefused = false;
            reply(ctx, refusal());
            return;
        }
        guard.record(session, verdict, "USER/PASS", user);
        if (!attempts.begin(user, "USER/PASS")) {
            refuseLogin(ctx, raw);
            return;
        }
        attempts.password(password);
        forward(ctx, raw, Kind.LOGIN);
    }

    private void login(ChannelHandlerContext ctx, ByteBuf raw, Verdict verdict, String method, String name) {
        guard.record(session, verdict, method, name);
        if (verdict == Verdict.REFUSE) {
            raw.release();
            reply(ctx, refusal());
        } else if (!attempts.begin(name, method)) {
            refuseLogin(ctx, raw);
        } else {
            forward(ctx, raw, Kind.LOGIN);
        }
    }

    private void auth(ChannelHandlerContext ctx, ByteBuf raw, String mechanism, String initialResponse) {
        if (sasl.start("AUTH", mechanism, initialResponse) == Verdict.REFUSE) {
            raw.release();
            reply(ctx, refusal());
            return;
        }
        if (!sasl.admitted()) {
            refuseLogin(ctx, raw);
            return;
        }
        sasl.forwarded();
        forward(ctx, raw, Kind.SASL);
    }

    private String refusal() {
        return offersStarttls()
                ? "-ERR [AUTH] Plaintext authentication is not allowed without TLS: issue STLS first\r\n"
                : "-ERR [AUTH] Plaintext authentication is not allowed on this connection\r\n";
    }

    @Override
    protected String lineTooLong() {
        return "-ERR Line too long\r\n";
    }

    @Override
    protected String violationReply(String what) {
        return "-ERR Closing: " + what + "\r\n";
    }

    @Override
    protected void tlsStarted() {
        user = "";
        userRefused = false;
    }

    // ---- backend replies --------------------------------------------------------------------------------------------

    @Override
    protected void decodeBackend(ChannelHandlerContext ctx, ByteBuf out) {
        while (!done() && out.isReadable()) {
            Command command = (Command) head();
            if (command != null && command.block != null) {
                int length = command.block.scan(out);
                if (length < 0) {
                    emit(ctx, out.readRetainedSlice(out.readableBytes()));
                    return;
                }
                emit(ctx, out.readRetainedSlice(length));
                answered(ctx, command);
                continue;
            }
            ByteBuf raw = readLine(ctx, out, false);
            if (raw == null) {
                return;
            }
            if (command == null) {
                emit(ctx, raw); // nothing asked: a server's parting "-ERR" before it closes, say
                continue;
            }
            reply(ctx, command, raw);
        }
    }

    private void reply(ChannelHandlerContext ctx, Command command, ByteBuf raw) {
        String line = CommandLines.text(raw);
        if (command.inBlock) {
            if (line.equals(".")) {
                guard.capabilitiesShown(tlsActive, command.kind == Kind.CAPA ? "CAPA" : null);
                if (command.kind == Kind.CAPA && offersStarttls()) {
                    emit(ctx, "STLS\r\n");
                }
                emit(ctx, raw);
                answered(ctx, command);
                return;
            }
            String rewritten = rewrite(command.kind, line);
            if (line.equals(rewritten)) {
                emit(ctx, raw);
                return;
            }
            raw.release();
            if (rewritten != null) {
                emit(ctx, rewritten + "\r\n");
            }
            return;
        }
        boolean ok = CommandLines.startsWithIgnoreCase(line, "+OK");
        emitFiltered(ctx, command, raw, line, ok);
    }

    private void emitFiltered(ChannelHandlerContext ctx, Command command, ByteBuf raw, String line, boolean ok) {
        switch (command.kind) {
            case SINGLE -> {
                emit(ctx, raw);
                answered(ctx, command);
            }
            case LOGIN -> {
                attempts.settle(ctx, LoginReplies.pop3(line));
                emit(ctx, raw);
                answered(ctx, command);
                if (ok) {
                    finish(ctx);
                }
            }
            case SASL -> {
                if (ok || !line.startsWith("+")) {
                    attempts.settle(ctx, LoginReplies.pop3(line));
                }
                emit(ctx, raw);
                if (!ok && line.startsWith("+")) {
                    saslChallenge(ctx);
                    return; // the exchange goes on
                }
                sasl.ended();
                answered(ctx, command);
                if (ok) {
                    finish(ctx);
                } else {
                    resumeClient(ctx);
                }
            }
            case BLOCK -> {
                emit(ctx, raw);
                if (ok) {
                    command.block = new DotTerminator();
                } else {
                    answered(ctx, command);
                }
            }
            case CAPA, MECHANISMS -> {
                emit(ctx, raw);
                if (ok) {
                    command.inBlock = true;
                } else {
                    answered(ctx, command);
                }
            }
        }
    }

    /** A line of a CAPA or mechanism listing as the client should see it; null to leave it out. */
    private String rewrite(Kind kind, String line) {
        if (kind == Kind.MECHANISMS) {
            return guard.offers(tlsActive, line.trim()) ? line : null;
        }
        String[] words = line.trim().split(" +");
        return switch (words[0].toUpperCase(Locale.ROOT)) {
            case "STLS" -> null; // the backend's own: TLS is the gateway's to offer
            case "XCLIENT" -> session.identityByGateway() ? null : line;
            case "USER" -> guard.refusesPlaintext(tlsActive) ? null : line;
            case "SASL" -> {
                StringBuilder kept = new StringBuilder(words[0]);
                for (int i = 1; i < words.length; i++) {
                    if (guard.offers(tlsActive, words[i])) {
                        kept.append(' ').append(words[i]);
                    }
                }
                String filtered = kept.toString();
                yield filtered.equals(words[0]) ? null : filtered.length() == line.trim().length() ? line : filtered;
            }
            default -> line;
        };
    }
}
