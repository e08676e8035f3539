package org.gatehouse.mail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.gatehouse.login.LoginGuard;
import org.gatehouse.login.LoginGuard.Verdict;
import org.gatehouse.login.Sasl;
import org.gatehouse.rules.SmtpSettings.BareLineEndings;
import org.gatehouse.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SMTP (RFC 5321) for the whole session: STARTTLS (RFC 3207), the EHLO keyword list, AUTH (RFC 4954), and every
 * message, since a message whose end the server reads elsewhere than the gateway would smuggle a second one past it.
 * Commands are read by {@link SmtpCommand} the way the most lenient server reads them.
 *
 * <p>Only framing the server must confirm passes: BDAT (RFC 3030) never (CHUNKING is not offered to clients, since a
 * chunk follows its command unconfirmed), XEXCH50 only when the server offered it (its blob follows a 354), and
 * without PIPELINING (RFC 2920) a command is passed on only once the previous one is answered. Before a
 * login, a command line over RFC 5321's 512 octets is refused, since a server that reads commands in 512-octet pieces
 * would read its tail as a command of its own.
 */
public final class SmtpInspector extends MailInspector {

    private static final Logger log = LoggerFactory.getLogger(SmtpInspector.class);

    private static final Set<String> BARE_COMMANDS = Set.of("DATA", "QUIT", "RSET", "NOOP", "HELP", "STARTTLS", "TURN");
    /** More lines than any EHLO reply has; bounds what is held while one is rewritten. */
    private static final int MAX_EHLO_LINES = 100;
    /** RFC 5321 §4.5.3.1.4: a command line, CRLF included. */
    static final int MAX_LINE_BEFORE_LOGIN = 512;
    private static final Pattern SIZE = Pattern.compile("\\d{1,18}");

    private enum Kind {
        /** One reply, possibly multi-line, relayed as it is. */
        SINGLE,
        /** The EHLO reply: its keyword lines are filtered, and tell what the server offers. */
        EHLO,
        /** HELO: the server offers no extension after it. */
        HELO,
        /** DATA: 354 means the message follows. */
        DATA,
        /** XEXCH50: 354 means a blob of a given size follows. */
        XEXCH50,
        /** AUTH with a mechanism: 334 challenges, then 235 (logged in) or an error. */
        AUTH
    }

    private static final class Command {
        final Kind kind;
        final long size;
        final List<String> lines = new ArrayList<>();

        Command(Kind kind, long size) {
            this.kind = kind;
            this.size = size;
        }
    }

    private enum Input {
        COMMANDS,
        /** DATA or XEXCH50 was sent: held until the backend says whether the data may follow. */
        AWAITING_DATA_REPLY,
        /** The message, read to its terminating dot. */
        MESSAGE,
        /** An XEXCH50 blob, relayed by count after the server's 354. */
        CHUNK
    }

    private final boolean normalize;
    private Input input = Input.COMMANDS;
    private MessageBody message;
    private long chunkRemaining;
    private boolean loggedIn;
    /** Messages whose end the gateway read (DATA's dot), for tests that compare it with a server's count. */
    private int messagesEnded;

    /** What the server's last EHLO reply offered. */
    private boolean pipelining;
    private boolean xexch50;

    public SmtpInspector(Session session, LoginGuard guard, Supplier<ChannelHandler> startTls) {
        super(session, guard, startTls);
        this.normalize = session.rule().smtp().bareLineEndings() == BareLineEndings.NORMALIZE;
        expect(new Command(Kind.SINGLE, 0)); // the greeting
    }

    // ---- client commands --------------------------------------------------------------------------------------------

    @Override
    protected void decodeClient(ChannelHandlerContext ctx, ByteBuf in) {
        while (!done() && in.isReadable()) {
            switch (input) {
                case AWAITING_DATA_REPLY -> {
                    return;
                }
                case MESSAGE -> {
                    if (!message(ctx, in)) {
                        return;
                    }
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
                    if (sasl.underWay() ? !sasl.clientsTurn() : !pipelining && head() != null) {
                        return; // held until the server answers what came before
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
        }
    }

    /** Reads the message; false when it needs more bytes (or ended the connection). */
    private boolean message(ChannelHandlerContext ctx, ByteBuf in) {
        switch (message.read(in, bytes -> forward(ctx, bytes))) {
            case END -> {
                if (message.rewritten() > 0) {
                    session.meters().bareLineEndings("normalized");
                    log.info("rewrote bare line endings to CRLF in a message rule={} client={} count={}",
                            session.rule().name(), clientAddress(), message.rewritten());
                }
                input = Input.COMMANDS;
                messagesEnded++;
                expect(new Command(Kind.SINGLE, 0)); // the reply to the message
                return true;
            }
            case BARE_LINE_ENDING -> {
                // The server has part of the message and no end: closing the connection discards it.
                session.meters().bareLineEndings("rejected");
                fail(ctx, "smtp-bare-line-ending",
                        "554 5.6.0 Message refused: a bare CR or LF in the message (not delivered); closing connection\r\n",
                        "a bare CR or LF in a message; the message was not delivered");
                return false;
            }
            default -> {
                return false;
            }
        }
    }

    private void command(ChannelHandlerContext ctx, ByteBuf in, ByteBuf raw) {
        String line = CommandLines.text(raw);
        if (refusedSaslResponse(ctx, raw, line, BARE_COMMANDS)) {
            return;
        }
        SmtpCommand command = SmtpCommand.parse(line);
        if (!loggedIn && !command.isLogin() && raw.readableBytes() > MAX_LINE_BEFORE_LOGIN) {
            raw.release();
            session.meters().commandRefused("line-too-long-before-login");
            reply(ctx, "500 5.5.2 Line too long (the limit before login is " + MAX_LINE_BEFORE_LOGIN + " octets)\r\n");
            return;
        }
        if (guard.transaction(session, tlsActive, command.verb()) == Verdict.REFUSE) {
            raw.release();
            session.meters().commandRefused("tls-required");
            reply(ctx, "530 5.7.0 Must issue a STARTTLS command first\r\n");
            return;
        }
        switch (command.verb()) {
            case "EHLO", "HELO" -> {
                guard.hello(command.argument(0));
                forward(ctx, raw, command.verb().equals("EHLO") ? Kind.EHLO : Kind.HELO, 0);
            }
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
            case "AUTH", "X-EXPS" -> auth(ctx, raw, command);
            case "DATA" -> {
                input = Input.AWAITING_DATA_REPLY;
                forward(ctx, raw, Kind.DATA, 0);
            }
            case "BDAT" -> chunk(ctx, raw);
            case "XEXCH50" -> exchangeBlob(ctx, raw, command);
            case "XCLIENT", "XFORWARD" -> {
                if (session.identityByGateway()) {
                    raw.release();
                    session.meters().commandRefused("client-identity");
                    reply(ctx, "550 5.7.0 " + command.verb() + " is the gateway's to send\r\n");
                } else {
                    forward(ctx, raw, Kind.SINGLE, 0);
                }
            }
            case "MAIL" -> {
                forward(ctx, raw, Kind.SINGLE, 0);
                loggedIn(ctx); // a mail transaction: as far as a relay without a login gets
            }
            default -> forward(ctx, raw, Kind.SINGLE, 0);
        }
    }

    private void forward(ChannelHandlerContext ctx, ByteBuf raw, Kind kind, long size) {
        expect(new Command(kind, size));
        forward(ctx, raw);
    }

    /**
     * BDAT is never passed on: its chunk follows the command at once, so a server that rejects the command line (a
     * syntax it reads otherwise, no MAIL yet, no CHUNKING) would read the chunk as commands the gateway never saw:
     * a hidden login, a hidden message with bare line endings. CHUNKING is not offered to clients, who use DATA.
     */
    private void chunk(ChannelHandlerContext ctx, ByteBuf raw) {
        raw.release();
        violation(ctx, "bdat-not-offered", "BDAT is not offered through this gateway");
    }

    /** Exchange's XEXCH50 size: a 354, then a blob of that size. */
    private void exchangeBlob(ChannelHandlerContext ctx, ByteBuf raw, SmtpCommand command) {
        String size = command.argument(0);
        if (!xexch50 || !SIZE.matcher(size).matches()) {
            raw.release();
            session.meters().commandRefused("not-offered");
            reply(ctx, "502 5.5.1 XEXCH50 is not offered on this connection\r\n");
            return;
        }
        input = Input.AWAITING_DATA_REPLY;
        forward(ctx, raw, Kind.XEXCH50, Long.parseLong(size));
    }

    /** A command as the gateway read it, for a server that must read exactly that (a chunk's size). */
    private static ByteBuf lineOf(ChannelHandlerContext ctx, SmtpCommand command) {
        return ByteBufUtil.writeAscii(ctx.alloc(), String.join(" ", command.words()) + "\r\n");
    }

    private void auth(ChannelHandlerContext ctx, ByteBuf raw, SmtpCommand command) {
        if (!command.exact()) {
            ambiguousLogin(ctx, raw, Sasl.method(command.verb(), ""), refusal(),
                    "500 5.5.2 Syntax error, command unrecognized\r\n");
            return;
        }
        if (sasl.start(command.verb(), command.mechanism(), command.initialResponse()) == Verdict.REFUSE) {
            raw.release();
            reply(ctx, refusal());
            return;
        }
        if (!sasl.admitted()) {
            refuseLogin(ctx, raw);
            return;
        }
        sasl.forwarded();
        forward(ctx, raw, Kind.AUTH, 0);
    }

    int messagesEnded() {
        return messagesEnded;
    }

    private String refusal() {
        return offersStarttls()
                ? "530 5.7.0 Must issue a STARTTLS command first\r\n"
                : "538 5.7.11 Encryption required for requested authentication mechanism\r\n";
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
            String line = CommandLines.text(raw);
            boolean last = line.length() < 4 || line.charAt(3) != '-';
            if (command.kind == Kind.EHLO) {
                raw.release();
                command.lines.add(line);
                if (last) {
                    emit(ctx, rewriteEhlo(command.lines));
                    answered(ctx, command);
                    resumeClient(ctx);
                } else if (command.lines.size() > MAX_EHLO_LINES) {
                    violation(ctx, "backend-ehlo-too-long", "the server's EHLO reply is too long");
                }
                continue;
            }
            if (last && command.kind == Kind.AUTH && !line.startsWith("334")) {
                attempts.settle(ctx, LoginReplies.smtp(line));
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
            case DATA, XEXCH50 -> {
                answered(ctx, command);
                if (!code.equals("354")) {
                    input = Input.COMMANDS;
                } else if (command.kind == Kind.DATA) {
                    message = new MessageBody(normalize);
                    input = Input.MESSAGE;
                } else {
                    chunkRemaining = command.size;
                    input = command.size > 0 ? Input.CHUNK : Input.COMMANDS;
                }
            }
            case AUTH -> {
                if (code.equals("334")) {
                    saslChallenge(ctx);
                    return; // the exchange goes on
                }
                sasl.ended();
                answered(ctx, command);
                if (code.equals("235")) {
                    loggedIn = true;
                    loggedIn(ctx);
                }
            }
            case HELO -> {
                answered(ctx, command);
                if (code.startsWith("2")) {
                    pipelining = xexch50 = false;
                }
            }
            default -> {
                answered(ctx, command);
                if (code.equals("354")) {
                    unexpectedGoAhead(ctx);
                    return;
                }
            }
        }
        resumeClient(ctx);
    }

    /**
     * The server asked for a message after a command the gateway did not read as DATA: it read that command otherwise.
     * If nothing was passed on after it, the gateway reads what follows as the message, as the server will; if
     * something was, the server took commands for the message and the session ends.
     */
    private void unexpectedGoAhead(ChannelHandlerContext ctx) {
        if (head() != null || input != Input.COMMANDS) {
            violation(ctx, "smtp-data-desync", "the server read a command as DATA");
            return;
        }
        message = new MessageBody(normalize);
        input = Input.MESSAGE;
        resumeClient(ctx);
    }

    /**
     * The EHLO reply the client should see: no STARTTLS but the gateway's, no mechanism the policy refuses. Notes what
     * the server offers on the way.
     */
    private String rewriteEhlo(List<String> lines) {
        String first = lines.get(0);
        String code = first.length() >= 3 ? first.substring(0, 3) : "250";
        if (!code.startsWith("2")) {
            return join(code, lines.stream().map(l -> l.length() > 4 ? l.substring(4) : "").toList());
        }
        pipelining = xexch50 = false;
        guard.capabilitiesShown(tlsActive, "EHLO");
        List<String> texts = new ArrayList<>();
        texts.add(first.length() > 4 ? first.substring(4) : "");
        for (String line : lines.subList(1, lines.size())) {
            String text = line.length() > 4 ? line.substring(4) : "";
            String keyword = text.strip().split("[ \t=]", 2)[0].toUpperCase(Locale.ROOT);
            switch (keyword) {
                case "STARTTLS" -> {
                    continue; // the backend's own: TLS is the gateway's to offer
                }
                case "AUTH", "X-EXPS" -> {
                    // "AUTH PLAIN LOGIN", or the pre-standard "AUTH=PLAIN LOGIN" old Outlook versions look for.
                    String kept = mechanisms(text.strip().substring(keyword.length()));
                    if (!kept.isEmpty()) {
                        texts.add(text.strip().substring(0, keyword.length() + 1) + kept);
                    }
                    continue;
                }
                case "PIPELINING" -> pipelining = true;
                case "CHUNKING", "BINARYMIME" -> {
                    continue; // BDAT is not passed on (see chunk)
                }
                case "XEXCH50" -> xexch50 = true;
                case "XCLIENT", "XFORWARD" -> {
                    if (session.identityByGateway()) {
                        continue; // offered to the gateway, which says the client's address itself
                    }
                }
                default -> {
                }
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
        for (String mechanism : list.substring(Math.min(1, list.length())).strip().split("[ \t]+")) {
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
