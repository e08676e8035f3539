package org.gatehouse.mail;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gatehouse.login.LoginGuard;
import org.gatehouse.login.LoginGuard.Verdict;
import org.gatehouse.session.Session;

/**
 * IMAP (RFC 3501, RFC 9051) in the not-authenticated state: STARTTLS, LOGIN, AUTHENTICATE (with SASL-IR), capability
 * lists in {@code CAPABILITY} responses and {@code [CAPABILITY ...]} response codes, and literals in both directions
 * (synchronizing, LITERAL+ and LITERAL-), so that literal data is never read as a command.
 */
public final class ImapInspector extends MailInspector {

    /** The largest literal accepted before login; LOGIN and AUTHENTICATE arguments are far smaller. */
    public static final int MAX_LITERAL = MAX_COMMAND_LINE;

    /** A literal announced at the end of a line: {n} (synchronizing), {n+} or {n-} (not), ~{n} (literal8). */
    private static final Pattern LITERAL = Pattern.compile("\\{(\\d{1,18})([+-]?)\\}$");
    private static final Pattern CAPABILITY_CODE = Pattern.compile("\\[CAPABILITY ([^\\]]*)\\]", Pattern.CASE_INSENSITIVE);
    private static final int MAX_CAPTURED_USER = 128;

    private enum Kind { GREETING, OTHER, LOGIN, AUTHENTICATE }

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
        AWAITING_GO_AHEAD,
        /** Client lines are responses of a forwarded AUTHENTICATE. */
        SASL
    }

    private Input input = Input.COMMANDS;
    private Command current;
    /** The current command was refused by the gateway: its remaining lines and literals are dropped. */
    private boolean discarding;
    private long literalRemaining;
    /** An audited LOGIN whose user name is the literal being read. */
    private StringBuilder userCapture;

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
            if (input == Input.AWAITING_GO_AHEAD) {
                return;
            }
            if (input == Input.LITERAL) {
                literal(ctx, in);
                continue;
            }
            ByteBuf raw = readLine(ctx, in, true);
            if (raw == null) {
                return;
            }
            String line = lineText(raw);
            switch (input) {
                case SASL -> forwardSaslResponse(ctx, raw, line);
                case CONTINUATION_LINE -> {
                    if (discarding) {
                        raw.release();
                    } else {
                        forward(ctx, raw);
                    }
                    afterLine(ctx, line);
                }
                default -> command(ctx, in, raw, line);
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

    private void forwardSaslResponse(ChannelHandlerContext ctx, ByteBuf raw, String line) {
        saslResponse(line);
        forward(ctx, raw);
    }

    private void command(ChannelHandlerContext ctx, ByteBuf in, ByteBuf raw, String line) {
        if (refusedSaslResponse(ctx, raw, line, Set.of())) { // an IMAP command always has a space after its tag
            return;
        }
        String[] words = line.split(" ", 3);
        if (words.length < 2) {
            forward(ctx, raw); // not a command: the server answers "BAD", which completes nothing
            return;
        }
        String tag = words[0];
        String name = words[1].toUpperCase(Locale.ROOT);
        String args = words.length > 2 ? words[2] : "";
        discarding = false;
        switch (name) {
            case "STARTTLS" -> {
                raw.release();
                current = new Command(tag, Kind.OTHER);
                if (offersStarttls()) {
                    startTls(ctx, in, tag + " OK Begin TLS negotiation now\r\n");
                } else if (tlsActive) {
                    reply(ctx, tag + " BAD TLS is already active\r\n");
                } else {
                    reply(ctx, tag + " BAD STARTTLS is not offered on this connection\r\n");
                }
            }
            case "LOGIN" -> login(ctx, raw, line, tag, args);
            case "AUTHENTICATE" -> {
                String[] parts = args.split(" ", 2);
                authenticate(ctx, raw, tag, parts[0].toUpperCase(Locale.ROOT), parts.length > 1 ? parts[1] : null);
            }
            default -> {
                current = new Command(tag, Kind.OTHER);
                expect(current);
                forward(ctx, raw);
                afterLine(ctx, line);
            }
        }
    }

    private void login(ChannelHandlerContext ctx, ByteBuf raw, String line, String tag, String args) {
        current = new Command(tag, Kind.LOGIN);
        Verdict verdict = guard.judge(tlsActive, true);
        String user = firstArgument(args);
        if (verdict == Verdict.REFUSE) {
            raw.release();
            guard.record(session, verdict, "LOGIN", user == null ? "" : user);
            reply(ctx, refusal(tag));
            discarding = true;
            afterLine(ctx, line);
            return;
        }
        if (verdict == Verdict.AUDIT) {
            if (user != null) {
                guard.record(session, verdict, "LOGIN", user);
            } else {
                userCapture = new StringBuilder(); // the user name is the literal that follows
            }
        }
        expect(current);
        forward(ctx, raw);
        afterLine(ctx, line);
    }

    private void authenticate(ChannelHandlerContext ctx, ByteBuf raw, String tag, String mechanism, String initial) {
        current = new Command(tag, Kind.AUTHENTICATE);
        if (saslStart("AUTHENTICATE", mechanism, initial) == Verdict.REFUSE) {
            raw.release();
            reply(ctx, refusal(tag));
            return;
        }
        expect(current);
        forward(ctx, raw);
        input = Input.SASL;
    }

    /** After a line of the current command: it ends here, or a literal follows. */
    private void afterLine(ChannelHandlerContext ctx, String line) {
        Matcher m = LITERAL.matcher(line);
        if (!m.find()) {
            input = Input.COMMANDS;
            discarding = false;
            userCapture = null;
            return;
        }
        long size = Long.parseLong(m.group(1));
        if (size > MAX_LITERAL) {
            violation(ctx, "literal-too-large", "a literal of " + size + " bytes before login (the limit is "
                    + MAX_LITERAL + ")");
            return;
        }
        boolean synchronizing = m.group(2).isEmpty();
        if (discarding && synchronizing) {
            // The client waits for a go-ahead; it got the refusal instead, so the command ends here.
            input = Input.COMMANDS;
            discarding = false;
            return;
        }
        literalRemaining = size;
        input = synchronizing ? Input.AWAITING_GO_AHEAD : size == 0 ? Input.CONTINUATION_LINE : Input.LITERAL;
    }

    /** LOGIN's first argument when it is an atom or a quoted string; null when it is a literal. */
    static String firstArgument(String args) {
        if (args.startsWith("{") || args.startsWith("~{")) {
            return null;
        }
        if (!args.startsWith("\"")) {
            int space = args.indexOf(' ');
            return space < 0 ? args : args.substring(0, space);
        }
        StringBuilder user = new StringBuilder();
        for (int i = 1; i < args.length(); i++) {
            char c = args.charAt(i);
            if (c == '\\' && i + 1 < args.length()) {
                user.append(args.charAt(++i));
            } else if (c == '"') {
                break;
            } else {
                user.append(c);
            }
        }
        return user.toString();
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
            String line = lineText(raw);
            if (serverResponseContinues) {
                emit(ctx, raw); // the rest of a response after its literal: data, not a new response
            } else {
                response(ctx, raw, line);
            }
            Matcher literal = LITERAL.matcher(line);
            serverResponseContinues = literal.find();
            if (serverResponseContinues) {
                serverLiteralRemaining = Long.parseLong(literal.group(1));
            }
        }
    }

    private void response(ChannelHandlerContext ctx, ByteBuf raw, String line) {
        if (line.startsWith("+")) {
            emit(ctx, raw);
            if (input == Input.AWAITING_GO_AHEAD && !finishing()) {
                input = Input.LITERAL;
                resumeClient(ctx);
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
        if (current == command && (input == Input.AWAITING_GO_AHEAD || input == Input.SASL) && !finishing()) {
            // Refused before its literal, or the exchange is over: the client's next line is a new command.
            input = Input.COMMANDS;
            saslEnded();
            answered(ctx, command);
            resumeClient(ctx);
        } else {
            answered(ctx, command);
        }
        if (status.equals("OK") && (command.kind() == Kind.LOGIN || command.kind() == Kind.AUTHENTICATE)) {
            finish(ctx);
        }
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
        if (startsWithIgnoreCase(line, "* CAPABILITY ")) {
            return line.substring(0, 13) + capabilities(line.substring(13));
        }
        Matcher m = CAPABILITY_CODE.matcher(line);
        if (m.find()) {
            return line.substring(0, m.start(1)) + capabilities(m.group(1)) + line.substring(m.end(1));
        }
        return line;
    }

    private String capabilities(String list) {
        List<String> kept = new ArrayList<>();
        boolean loginDisabled = false;
        for (String capability : list.trim().split(" +")) {
            String upper = capability.toUpperCase(Locale.ROOT);
            if (upper.equals("STARTTLS")) {
                continue; // the backend's own: TLS is the gateway's to offer
            }
            if (upper.startsWith("AUTH=")) {
                if (!guard.offers(tlsActive, upper.substring(5))) {
                    continue;
                }
            }
            loginDisabled |= upper.equals("LOGINDISABLED");
            kept.add(capability);
        }
        if (offersStarttls()) {
            kept.add("STARTTLS");
        }
        if (!loginDisabled && guard.refusesPlaintext(tlsActive)) {
            kept.add("LOGINDISABLED");
        }
        String result = String.join(" ", kept);
        return result.equals(list) ? list : result;
    }
}
