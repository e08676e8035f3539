package org.gatehouse.mail;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gatehouse.login.LoginGuard;
import org.gatehouse.login.LoginGuard.Verdict;
import org.gatehouse.login.Sasl;
import org.gatehouse.session.Session;

/**
 * IMAP (RFC 3501, RFC 9051) in the not-authenticated state: STARTTLS, LOGIN, AUTHENTICATE (with SASL-IR), capability
 * lists in {@code CAPABILITY} responses and {@code [CAPABILITY ...]} response codes, and literals in both directions
 * (synchronizing only before login: LITERAL+ and LITERAL- are not offered, since a literal the server did not confirm
 * would be read as commands by a server that rejected the line announcing it), so that literal data is never read as
 * a command.
 */
public final class ImapInspector extends MailInspector {

    /** The largest literal accepted before login; LOGIN and AUTHENTICATE arguments are far smaller. */
    public static final int MAX_LITERAL = MAX_COMMAND_LINE;

    /** A literal at the end of a server response line, where the server is trusted to mean one. */
    private static final Pattern SERVER_LITERAL = Pattern.compile("~?\\{(\\d{1,18})\\+?\\}$");
    private static final int MAX_CAPTURED_USER = 128;

    private enum Kind {
        GREETING,
        OTHER,
        LOGIN,
        AUTHENTICATE
    }

    private record Command(String tag, Kind kind) {
    }

    private enum Input {
        /** A new command starts with the next line. */
        COMMANDS,
        /** The next line continues the current command after a literal. */
        CONTINUATION_LINE,
        /** Literal bytes of the current command. */
        LITERAL,
        /** A synchronizing literal was announced: held until the server says go ({@code +}) or no (tagged reply). */
        AWAITING_GO_AHEAD
    }

    private Input input = Input.COMMANDS;
    private Command current;
    /** The current command was refused by the gateway: its remaining lines and literals are dropped. */
    private boolean discarding;
    /** Lines passed on that were not commands, whose untagged "* BAD" may still come (see {@link #response}). */
    private int unansweredJunk;
    private long literalRemaining;
    /** An audited LOGIN whose user name is the literal being read. */
    private StringBuilder userCapture;

    /** What the server's last capability list offered. */
    private boolean binary;

    /** The server is sending a literal (bytes left), or the rest of a response that had one. */
    private long serverLiteralRemaining;
    private boolean serverResponseContinues;

    public ImapInspector(Session session, LoginGuard guard, Supplier<ChannelHandler> startTls) {
        super(session, guard, startTls);
        expect(new Command("*", Kind.GREETING));
    }

    // ---- client commands --------------------------------------------------------------------------------------------

    @Override
    protected void decodeClient(ChannelHandlerContext ctx, ByteBuf in) {
        while (!done() && !finishing() && in.isReadable()) {
            if (input == Input.AWAITING_GO_AHEAD || (sasl.underWay() && !sasl.clientsTurn())) {
                return; // held until the server answers
            }
            if (input == Input.LITERAL) {
                literal(ctx, in);
                continue;
            }
            ByteBuf raw = readLine(ctx, in, true);
            if (raw == null) {
                return;
            }
            String line = CommandLines.text(raw);
            if (sasl.underWay()) {
                if (!sasl.response(line)) {
                    refuseLogin(ctx, raw);
                    return;
                }
                forward(ctx, raw);
            } else if (input == Input.CONTINUATION_LINE) {
                ImapLine continued = ImapLine.continuation(line);
                if (!framingAgreed(ctx, continued)) {
                    raw.release();
                    return;
                }
                if (discarding) {
                    raw.release();
                } else {
                    forward(ctx, raw);
                }
                afterLine(ctx, continued);
            } else {
                command(ctx, in, raw, line);
            }
        }
    }

    private void literal(ChannelHandlerContext ctx, ByteBuf in) {
        int length = (int) Math.min(literalRemaining, in.readableBytes());
        ByteBuf part = in.readRetainedSlice(length);
        literalRemaining -= length;
        if (userCapture != null && userCapture.length() < MAX_CAPTURED_USER) {
            userCapture.append(part.toString(part.readerIndex(),
                    Math.min(length, MAX_CAPTURED_USER - userCapture.length()), StandardCharsets.UTF_8));
        }
        if (discarding) {
            part.release();
        } else {
            forward(ctx, part);
        }
        if (literalRemaining == 0) {
            if (userCapture != null) {
                guard.record(session, Verdict.AUDIT, "LOGIN", userCapture.toString());
                userCapture = null;
            }
            input = Input.CONTINUATION_LINE;
        }
    }

    private void command(ChannelHandlerContext ctx, ByteBuf in, ByteBuf raw, String line) {
        if (refusedSaslResponse(ctx, raw, line, Set.of())) { // an IMAP command always has a space after its tag
            return;
        }
        ImapLine command = ImapLine.command(line);
        if (command.name().isEmpty() && (command.ambiguous() || command.literal() != null)) {
            raw.release();
            violation(ctx, "ambiguous-literal", "braces where a tag or command belongs");
            return;
        }
        if (!framingAgreed(ctx, command)) {
            raw.release();
            return;
        }
        if (command.name().isEmpty()) {
            unansweredJunk++;
            forward(ctx, raw); // not a command: the server answers "BAD", which completes nothing
            return;
        }
        String tag = command.tag();
        discarding = false;
        if (guard.transaction(session, tlsActive, command.name()) == Verdict.REFUSE) {
            current = new Command(tag, Kind.OTHER);
            refuse(ctx, raw, command, tag + " NO [PRIVACYREQUIRED] TLS required: send STARTTLS first\r\n",
                    "tls-required");
            return;
        }
        switch (command.name()) {
            case "STARTTLS" -> {
                raw.release();
                starttls(ctx, in, tag);
            }
            case "LOGIN", "AUTHENTICATE" -> {
                if (!command.exact()) {
                    current = new Command(tag, Kind.OTHER);
                    ambiguousLogin(ctx, raw, command.name().equals("LOGIN") ? "LOGIN" : Sasl.method("AUTHENTICATE", ""),
                            refusal(tag), tag + " BAD Unknown command\r\n");
                    discarding = true;
                    afterLine(ctx, command);
                } else if (command.name().equals("LOGIN")) {
                    login(ctx, raw, command);
                } else {
                    authenticate(ctx, raw, command);
                }
            }
            case "ID" -> id(ctx, raw, command, line);
            case "COMPRESS" -> {
                // Compressed bytes could not be read for a login: RFC 4978 allows it only after one anyway.
                current = new Command(tag, Kind.OTHER);
                refuse(ctx, raw, command, tag + " BAD COMPRESS is not allowed before login\r\n",
                        "compress-before-login");
            }
            default -> {
                current = new Command(tag, Kind.OTHER);
                expect(current);
                forward(ctx, raw);
                afterLine(ctx, command);
            }
        }
    }

    /**
     * ID: where the gateway tells the server the client's address with it, Dovecot takes x-originating-ip and the like
     * from the trusted gateway's connection, so a client's own x- fields (or literals that could hide them) are refused.
     */
    private void id(ChannelHandlerContext ctx, ByteBuf raw, ImapLine command, String line) {
        current = new Command(command.tag(), Kind.OTHER);
        if (session.identityByGateway() && (line.toUpperCase(Locale.ROOT).contains("X-") || line.contains("{"))) {
            refuse(ctx, raw, command, command.tag() + " NO ID fields x-* are the gateway's to send\r\n",
                    "client-identity");
        } else {
            ImapId.name(command.name(), line).ifPresent(guard::hello);
            expect(current);
            forward(ctx, raw);
            afterLine(ctx, command);
        }
    }

    private void starttls(ChannelHandlerContext ctx, ByteBuf in, String tag) {
        current = new Command(tag, Kind.OTHER);
        if (offersStarttls()) {
            startTls(ctx, in, tag + " OK Begin TLS negotiation now\r\n");
        } else if (tlsActive) {
            reply(ctx, tag + " BAD TLS is already active\r\n");
        } else {
            reply(ctx, tag + " BAD STARTTLS is not offered on this connection\r\n");
        }
    }

    /** Answers a command from the gateway; its literals, if the client sends them, are dropped. */
    private void refuse(ChannelHandlerContext ctx, ByteBuf raw, ImapLine command, String reply, String reason) {
        raw.release();
        session.meters().commandRefused(reason);
        reply(ctx, reply);
        discarding = true;
        afterLine(ctx, command);
    }

    private void login(ChannelHandlerContext ctx, ByteBuf raw, ImapLine command) {
        String tag = command.tag();
        current = new Command(tag, Kind.LOGIN);
        Verdict verdict = guard.judge(tlsActive, true);
        ImapLine.Argument first = command.argument(0);
        String user = first == null ? "" : first.literal() ? null : first.text();
        if (verdict == Verdict.REFUSE) {
            raw.release();
            guard.record(session, verdict, "LOGIN", user == null ? "" : user);
            reply(ctx, refusal(tag));
            discarding = true;
            afterLine(ctx, command);
            return;
        }
        if (verdict == Verdict.AUDIT) {
            if (user != null) {
                guard.record(session, verdict, "LOGIN", user);
            } else {
                userCapture = new StringBuilder(); // the user name is the literal that follows
            }
        }
        if (!attempts.begin(user == null ? "" : user, "LOGIN")) {
            refuseLogin(ctx, raw);
            return;
        }
        ImapLine.Argument password = command.argument(1);
        attempts.password(password == null || password.literal() ? null : password.text());
        expect(current);
        forward(ctx, raw);
        afterLine(ctx, command);
    }

    private void authenticate(ChannelHandlerContext ctx, ByteBuf raw, ImapLine command) {
        String tag = command.tag();
        current = new Command(tag, Kind.AUTHENTICATE);
        ImapLine.Argument mechanism = command.argument(0);
        ImapLine.Argument initial = command.argument(1);
        String name = mechanism == null || mechanism.literal() ? "" : mechanism.text().toUpperCase(Locale.ROOT);
        if (sasl.start("AUTHENTICATE", name,
                initial == null || initial.literal() ? null : initial.text()) == Verdict.REFUSE) {
            raw.release();
            reply(ctx, refusal(tag));
            discarding = true;
            afterLine(ctx, command);
            return;
        }
        if (command.literal() != null) {
            // SASL responses are lines, never literals: a server that reads one would take what follows for it.
            raw.release();
            violation(ctx, "ambiguous-literal", "a literal in AUTHENTICATE");
            return;
        }
        if (!sasl.admitted()) {
            refuseLogin(ctx, raw);
            return;
        }
        expect(current);
        forward(ctx, raw);
        sasl.forwarded();
    }

    /**
     * Whether the server will read where {@code line} ends as the gateway does, checked before a byte of it is passed
     * on: a literal is read as one only in the form every server reads alike, and only with the framing the server
     * offered. When not, the connection ends.
     */
    private boolean framingAgreed(ChannelHandlerContext ctx, ImapLine line) {
        if (line.ambiguous()) {
            violation(ctx, "ambiguous-literal", "braces at the end of a line that are not a literal");
            return false;
        }
        ImapLine.Literal literal = line.literal();
        if (literal == null) {
            return true;
        }
        if (literal.size() > MAX_LITERAL) {
            violation(ctx, "literal-too-large", "a literal of " + literal.size() + " bytes before login (the limit is "
                    + MAX_LITERAL + ")");
            return false;
        }
        if (literal.binary() && !binary) {
            violation(ctx, "literal-not-offered", "a literal8 (~{n}) to a server that did not offer BINARY");
            return false;
        }
        if (!literal.synchronizing()) {
            // The literal follows at once, unconfirmed: a server that rejected the line up to it (a tab, a bad tag,
            // a syntax it reads otherwise) reads it as commands. LITERAL+ and LITERAL- are not offered before login.
            violation(ctx, "literal-not-offered", "a non-synchronizing literal before login");
            return false;
        }
        return true;
    }

    /** After a line of the current command (its framing agreed): it ends here, or a literal follows. */
    private void afterLine(ChannelHandlerContext ctx, ImapLine line) {
        ImapLine.Literal literal = line.literal();
        if (literal == null) {
            input = Input.COMMANDS;
            discarding = false;
            userCapture = null;
            return;
        }
        if (discarding && literal.synchronizing()) {
            // The client waits for a go-ahead; it got the refusal instead, so the command ends here.
            input = Input.COMMANDS;
            discarding = false;
            return;
        }
        literalRemaining = literal.size();
        input = literal.synchronizing()
                ? Input.AWAITING_GO_AHEAD
                : literal.size() == 0 ? Input.CONTINUATION_LINE : Input.LITERAL;
    }

    private String refusal(String tag) {
        return tag + (offersStarttls()
                ? " NO [PRIVACYREQUIRED] Plaintext authentication is not allowed without TLS: use STARTTLS first\r\n"
                : " NO [PRIVACYREQUIRED] Plaintext authentication is not allowed on this connection\r\n");
    }

    @Override
    protected String lineTooLong() {
        return "* BYE Line too long\r\n";
    }

    @Override
    protected String violationReply(String what) {
        return "* BYE Closing connection: " + what + "\r\n";
    }

    // ---- backend responses ------------------------------------------------------------------------------------------

    @Override
    protected void decodeBackend(ChannelHandlerContext ctx, ByteBuf out) {
        while (!done() && out.isReadable()) {
            if (serverLiteralRemaining > 0) {
                int length = (int) Math.min(serverLiteralRemaining, out.readableBytes());
                emit(ctx, out.readRetainedSlice(length));
                serverLiteralRemaining -= length;
                continue;
            }
            ByteBuf raw = readLine(ctx, out, false);
            if (raw == null) {
                return;
            }
            String line = CommandLines.text(raw);
            if (serverResponseContinues) {
                emit(ctx, raw); // the rest of a response after its literal: data, not a new response
            } else {
                response(ctx, raw, line);
            }
            Matcher literal = SERVER_LITERAL.matcher(line);
            serverResponseContinues = literal.find();
            if (serverResponseContinues) {
                serverLiteralRemaining = Long.parseLong(literal.group(1));
            }
        }
    }

    private void response(ChannelHandlerContext ctx, ByteBuf raw, String line) {
        settleLogin(ctx, line);
        if (line.startsWith("+")) {
            emit(ctx, raw);
            if (finishing()) {
                return;
            }
            if (input == Input.AWAITING_GO_AHEAD) {
                input = Input.LITERAL;
                resumeClient(ctx);
            } else if (sasl.underWay()) {
                saslChallenge(ctx);
            }
            return;
        }
        String rewritten = rewriteCapabilities(line);
        if (rewritten.equals(line)) {
            emit(ctx, raw);
        } else {
            raw.release();
            emit(ctx, rewritten + "\r\n");
        }
        String[] words = line.split(" ", 3);
        String status = words.length > 1 ? words[1].toUpperCase(Locale.ROOT) : "";
        if (words[0].equals("*") && status.equals("BAD") && literalLineRefused(ctx)) {
            return;
        }
        if (words[0].equals("*")) {
            Object head = head();
            if (head instanceof Command greeting && greeting.kind() == Kind.GREETING) {
                answered(ctx, greeting);
                if (status.equals("PREAUTH")) {
                    finish(ctx); // logged in before a word was said: nothing left to protect
                }
            }
            return;
        }
        Command command = waitingCommand(words[0]);
        if (command == null) {
            return;
        }
        boolean resume = current == command && (input == Input.AWAITING_GO_AHEAD || sasl.underWay()) && !finishing();
        if (resume) {
            // Refused before its literal, or the exchange is over: the client's next line is a new command.
            input = Input.COMMANDS;
            sasl.ended();
        }
        answered(ctx, command);
        if (status.equals("OK") && (command.kind() == Kind.LOGIN || command.kind() == Kind.AUTHENTICATE)) {
            finish(ctx);
        } else if (resume) {
            resumeClient(ctx);
        }
    }

    /** A tagged reply to LOGIN or AUTHENTICATE ends a login: account protection counts it before it goes out. */
    private void settleLogin(ChannelHandlerContext ctx, String line) {
        String[] words = line.split(" ", 3);
        Command command = words.length < 2 || words[0].equals("*") || words[0].equals("+")
                ? null
                : waitingCommand(words[0]);
        if (command != null && (command.kind() == Kind.LOGIN || command.kind() == Kind.AUTHENTICATE)) {
            attempts.settle(ctx,
                    LoginReplies.imap(words[1].toUpperCase(Locale.ROOT), words.length > 2 ? words[2] : ""));
        }
    }

    /** An untagged BAD: whether it refused the line that announced a literal, which then ends here. */
    private boolean literalLineRefused(ChannelHandlerContext ctx) {
        if (unansweredJunk > 0) {
            unansweredJunk--; // the answer to an earlier line that was not a command
            return false;
        }
        if (input == Input.AWAITING_GO_AHEAD && current != null && head() == current && !finishing()) {
            // The server could not read the line that announced the literal (a bad tag, say): no go-ahead will come,
            // and it reads what follows as commands, as the gateway will now. Not when an earlier line may own the
            // BAD: the server would read the literal as the login's, and the gateway would lose the login's outcome.
            input = Input.COMMANDS;
            answered(ctx, current);
            resumeClient(ctx);
            return true;
        }
        return false;
    }

    private Command waitingCommand(String tag) {
        for (Object o : waiting()) {
            if (o instanceof Command c && c.kind() != Kind.GREETING && c.tag().equals(tag)) {
                return c;
            }
        }
        return null;
    }

    /** A response with its capability list as the client should see it (unchanged when nothing needs changing). */
    private String rewriteCapabilities(String line) {
        ImapCapabilities.Rewritten r = ImapCapabilities.rewrite(line, guard, tlsActive, offersStarttls());
        if (r.binary() != null) {
            binary = r.binary();
        }
        return r.line();
    }
}
