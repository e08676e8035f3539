package org.gatehouse.mail;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.util.Set;
import java.util.function.Supplier;
import org.gatehouse.login.LoginGuard;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.session.LoggedIn;
import org.gatehouse.session.ProtocolReplies;
import org.gatehouse.session.Session;
import org.gatehouse.tls.HandshakeOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a mail session in both directions until the login policy no longer matters, then leaves the pipeline so the
 * connection is a plain relay. It sits on the client connection between TLS and the relay: client commands arrive as
 * {@link #channelRead}, backend replies as {@link #write} (the relay writes them to the client channel).
 *
 * <p>What the subclasses share here:
 *
 * <ul>
 *   <li>Bounded buffering of both directions, with the protocol's error and a close when a line is too long.
 *   <li>The reply queue: every client command the backend answers, and every answer the gateway gives itself, in the
 *       order the client sent them, so a pipelining client gets its replies in order.
 *   <li>STARTTLS: the gateway's own answer, the handshake, and the injection check (plaintext pipelined after the
 *       command is never read as a command, the connection is closed instead).
 *   <li>Finishing: once logged in, or once the session needs no more filtering, client bytes go through unread, the
 *       replies already expected are read to their end, and the handler removes itself.
 * </ul>
 *
 * All methods run on the connection's event loop.
 */
public abstract class MailInspector extends ChannelDuplexHandler {

    private static final Logger log = LoggerFactory.getLogger(MailInspector.class);

    /** Longest client line read before login: above SMTP AUTH's 12288-octet bound (RFC 4954), far above commands. */
    public static final int MAX_COMMAND_LINE = 16 * 1024;
    /** Longest backend line read while inspecting. */
    public static final int MAX_REPLY_LINE = 64 * 1024;
    /** Client bytes held while the backend has not answered what they depend on (a literal, DATA). */
    public static final int MAX_HELD_BYTES = 64 * 1024;

    protected final Session session;
    protected final LoginGuard guard;
    private final Supplier<ChannelHandler> startTls;

    /** Whether the client connection is encrypted now (implicit TLS, or after STARTTLS). */
    protected boolean tlsActive;
    private boolean upgrading;
    private boolean finishing;
    private boolean removed;
    private boolean failed;

    /** The session's SASL exchange. */
    protected final SaslExchange sasl;
    /** The session's logins as account protection counts them. */
    protected final LoginAttempts attempts;

    private ByteBuf in;
    private ByteBuf out;
    private boolean loggedInTold;
    /** Bytes went to the backend since the last read-complete, which is what flushes them. */
    private boolean forwardedUnflushed;
    private final ReplyQueue queue = new ReplyQueue();

    /**
     * @param startTls makes the TLS handler for a STARTTLS upgrade; null when the rule does not offer STARTTLS
     */
    protected MailInspector(Session session, LoginGuard guard, Supplier<ChannelHandler> startTls) {
        this.session = requireNonNull(session, "session");
        this.guard = requireNonNull(guard, "guard");
        this.startTls = startTls;
        this.attempts = new LoginAttempts(session, guard);
        this.sasl = new SaslExchange(session, guard, () -> tlsActive, attempts);
        this.tlsActive = session.rule().tls().mode() == TlsMode.IMPLICIT;
    }

    // ---- what a protocol implements ---------------------------------------------------------------------------------

    /** Reads as many client commands from {@code in} as it can; stops when it needs more bytes or must wait. */
    protected abstract void decodeClient(ChannelHandlerContext ctx, ByteBuf in);

    /** Reads as many backend replies from {@code out} as it can, emitting them (rewritten where needed). */
    protected abstract void decodeBackend(ChannelHandlerContext ctx, ByteBuf out);

    /** The protocol's error line for a client line longer than {@link #MAX_COMMAND_LINE}, CRLF included. */
    protected abstract String lineTooLong();

    /** The protocol's error line sent before closing for any other violation, CRLF included. */
    protected abstract String violationReply(String what);

    /** Called once the STARTTLS reply is sent and TLS is in place: what was learnt before TLS is void. */
    protected void tlsStarted() {
    }

    // ---- client → backend -------------------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (failed) {
            buf.release();
            return;
        }
        if (finishing) {
            ctx.fireChannelRead(buf);
            return;
        }
        if (upgrading) {
            // The client must wait for the STARTTLS answer; whatever it sent meanwhile was not meant to be read.
            buf.release();
            violation(ctx, "starttls-injection", "plaintext sent after STARTTLS");
            return;
        }
        in = ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), in == null ? Unpooled.EMPTY_BUFFER : in, buf);
        decodeClientChecked(ctx);
    }

    private void decodeClientChecked(ChannelHandlerContext ctx) {
        if (in == null || failed || finishing) {
            return;
        }
        decodeClient(ctx, in);
        if (failed || in == null) {
            return;
        }
        if (in.readableBytes() > MAX_HELD_BYTES) {
            violation(ctx, "too-much-pipelined", "too much data sent without waiting for the server");
            return;
        }
        if (!in.isReadable()) {
            in.release();
            in = null;
        } else {
            compact(in);
        }
    }

    /**
     * Frees the read part of a cumulation, unless slices of it passed on are still waiting to be written: compacting
     * would move the bytes under them (Netty's ByteToMessageDecoder has the same rule).
     */
    private static void compact(ByteBuf buf) {
        if (buf.refCnt() == 1) {
            buf.discardSomeReadBytes();
        }
    }

    /**
     * Carries on reading client bytes that were held, after a backend reply said how to read them; the bytes it
     * forwards are flushed to the backend now, since no client read will do it.
     */
    protected final void resumeClient(ChannelHandlerContext ctx) {
        decodeClientChecked(ctx);
        if (forwardedUnflushed) {
            forwardedUnflushed = false;
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        forwardedUnflushed = false;
        ctx.fireChannelReadComplete();
    }

    /**
     * The next line of {@code buf} with its line ending, consumed; null when it is not complete yet. A line over the
     * limit ends the connection: check {@link #done()} after a null.
     *
     * @param client whether {@code buf} holds client bytes (or backend bytes), which decides the limit and the error
     */
    protected final ByteBuf readLine(ChannelHandlerContext ctx, ByteBuf buf, boolean client) {
        int limit = client ? MAX_COMMAND_LINE : MAX_REPLY_LINE;
        int searchable = Math.min(buf.readableBytes(), limit);
        int lf = buf.indexOf(buf.readerIndex(), buf.readerIndex() + searchable, (byte) '\n');
        if (lf < 0) {
            if (buf.readableBytes() >= limit) {
                if (client) {
                    fail(ctx, "line-too-long", lineTooLong(), "a command line longer than " + limit + " bytes");
                } else {
                    fail(ctx, "backend-line-too-long", violationReply("the server sent an over-long line"),
                            "the backend sent a line longer than " + limit + " bytes");
                }
            }
            return null;
        }
        ByteBuf line = buf.readRetainedSlice(lf - buf.readerIndex() + 1);
        if (!client) {
            return line;
        }
        String unreadable = CommandLines.unreadable(line);
        if (unreadable != null) {
            line.release();
            violation(ctx, "ambiguous-line-ending", unreadable);
            return null;
        }
        return CommandLines.withCrlf(ctx.alloc(), line);
    }

    /** Passes client bytes on to the backend. */
    protected final void forward(ChannelHandlerContext ctx, ByteBuf bytes) {
        forwardedUnflushed = true;
        ctx.fireChannelRead(bytes);
    }

    /** The client's address as logs write it. */
    protected final String clientAddress() {
        return NetUtil.toAddressString(session.client().getAddress());
    }

    // ---- backend → client -------------------------------------------------------------------------------------------

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf) || removed) {
            ctx.write(msg, promise);
            return;
        }
        if (failed) {
            buf.release();
            promise.trySuccess();
            return;
        }
        if (!buf.isReadable()) {
            // The relay's "close after flush" marker: whatever is half-read goes out first, as it is.
            if (out != null) {
                ctx.write(out, ctx.voidPromise());
                out = null;
            }
            ctx.write(buf, promise);
            return;
        }
        out = ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), out == null ? Unpooled.EMPTY_BUFFER : out,
                buf);
        decodeBackend(ctx, out);
        if (out != null && !out.isReadable()) {
            out.release();
            out = null;
        } else if (out != null) {
            compact(out);
        }
        if (!promise.isVoid()) {
            ctx.write(Unpooled.EMPTY_BUFFER, promise);
        }
    }

    /** Sends backend bytes on to the client (the caller's reference is passed on). */
    protected final void emit(ChannelHandlerContext ctx, ByteBuf bytes) {
        ctx.write(bytes, ctx.voidPromise());
    }

    protected final void emit(ChannelHandlerContext ctx, String text) {
        ctx.write(ByteBufUtil.writeAscii(ctx.alloc(), text), ctx.voidPromise());
    }

    // ---- the reply queue --------------------------------------------------------------------------------------------

    /** Notes that the backend owes a reply to a command just forwarded. */
    protected final void expect(Object command) {
        queue.expect(command);
    }

    /** The oldest command still waiting for its backend reply, or null. */
    protected final Object head() {
        return queue.head();
    }

    /** The waiting commands, oldest first, for protocols (IMAP) whose replies name their command. */
    protected final Iterable<Object> waiting() {
        return queue.waiting();
    }

    /** The backend has answered {@code command} completely. */
    protected final void answered(ChannelHandlerContext ctx, Object command) {
        queue.remove(command);
        queue.runReady(() -> failed);
        finishIfDrained(ctx);
    }

    /** Answers the client from the gateway, after the replies to the commands it sent before. */
    protected final void reply(ChannelHandlerContext ctx, String text) {
        later(() -> ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), text)));
    }

    private void later(Runnable action) {
        queue.later(action);
        queue.runReady(() -> failed);
    }

    // ---- SASL (AUTH, AUTHENTICATE) ---------------------------------------------------------------------------------

    /** The server sent a challenge: the client's next line is the response, read now if it came already. */
    protected final void saslChallenge(ChannelHandlerContext ctx) {
        sasl.challenged();
        resumeClient(ctx);
    }

    /**
     * A word a server could take for a login verb without being one ({@code AUTHX}, {@code USERNAME},
     * {@code a LOGINX}): never passed on, whatever the policy, since the gateway could not follow what the server makes
     * of it (a login, a mechanism listing, an error). Recorded as a refused login unless the policy allows logins now.
     *
     * @param method       the login it resembles, for the record
     * @param refusalReply the answer when the policy refuses clear-text logins now
     * @param syntaxReply  the answer otherwise: the protocol's unknown-command error
     */
    protected final void ambiguousLogin(ChannelHandlerContext ctx, ByteBuf raw, String method, String refusalReply,
            String syntaxReply) {
        raw.release();
        LoginGuard.Verdict verdict = guard.judge(tlsActive, true);
        if (verdict != LoginGuard.Verdict.ALLOW) {
            guard.record(session, LoginGuard.Verdict.REFUSE, method, "");
        }
        sasl.refusedWithoutStart(verdict == LoginGuard.Verdict.REFUSE);
        session.meters().commandRefused("ambiguous-login-verb");
        reply(ctx, verdict == LoginGuard.Verdict.REFUSE ? refusalReply : syntaxReply);
    }

    /**
     * Whether {@code line}, the first after a refused SASL start, is the response the client pipelined behind it: then
     * it is dropped and the connection closed. A bare command of the protocol is never taken for one.
     */
    protected final boolean refusedSaslResponse(ChannelHandlerContext ctx, ByteBuf raw, String line,
            Set<String> bareCommands) {
        if (!sasl.isStrayResponse(line, bareCommands)) {
            return false;
        }
        raw.release();
        violation(ctx, "sasl-after-refusal", "an authentication response after the refused " + sasl.command());
        return true;
    }

    // ---- STARTTLS ---------------------------------------------------------------------------------------------------

    /** Whether this connection offers STARTTLS now: the rule says starttls and TLS has not started. */
    protected final boolean offersStarttls() {
        return startTls != null && !tlsActive && !upgrading;
    }

    /**
     * The client asked for TLS (and {@link #offersStarttls()} holds): answers {@code okReply} once earlier replies are
     * out, then starts the handshake. Bytes the client sent after the command end the connection.
     */
    protected final void startTls(ChannelHandlerContext ctx, ByteBuf in, String okReply) {
        if (in.isReadable()) {
            violation(ctx, "starttls-injection", "plaintext pipelined after STARTTLS");
            return;
        }
        upgrading = true;
        later(() -> {
            ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), okReply));
            session.tlsStarting();
            HandshakeOutcome.addBefore(ctx.pipeline(), ctx.name(), startTls.get(), session);
            upgrading = false;
            tlsActive = true;
            sasl.reset();
            session.meters().starttls();
            tlsStarted();
        });
    }

    // ---- finishing --------------------------------------------------------------------------------------------------

    /**
     * The login policy no longer matters for this session: client bytes go through unread from now on, and the
     * handler leaves once the replies already expected have been read.
     */
    protected final void finish(ChannelHandlerContext ctx) {
        if (finishing || failed) {
            return;
        }
        finishing = true;
        loggedIn(ctx);
        if (in != null) {
            ByteBuf rest = in;
            in = null;
            if (rest.isReadable()) {
                ctx.fireChannelRead(rest);
                ctx.fireChannelReadComplete();
            } else {
                rest.release();
            }
        }
        finishIfDrained(ctx);
    }

    private void finishIfDrained(ChannelHandlerContext ctx) {
        if (!finishing || removed || !queue.isEmpty()) {
            return;
        }
        removed = true;
        if (out != null) {
            ByteBuf rest = out;
            out = null;
            if (rest.isReadable()) {
                ctx.write(rest, ctx.voidPromise());
            } else {
                rest.release();
            }
        }
        ctx.pipeline().remove(this);
    }

    /** Bytes held in both directions, for tests that check the bounds. */
    final int heldBytes() {
        return (in == null ? 0 : in.readableBytes()) + (out == null ? 0 : out.readableBytes());
    }

    /** Tells the handlers after this one, once, that the session is past its login ({@link LoggedIn}). */
    protected final void loggedIn(ChannelHandlerContext ctx) {
        if (!loggedInTold) {
            loggedInTold = true;
            guard.loggedIn(session, tlsActive);
            ctx.fireUserEventTriggered(LoggedIn.INSTANCE);
        }
    }

    /** Whether the session reached its relay-only state (subclasses stop decoding). */
    protected final boolean done() {
        return removed || failed;
    }

    protected final boolean finishing() {
        return finishing;
    }

    // ---- errors -----------------------------------------------------------------------------------------------------

    /**
     * Account protection refused the login in {@code raw} (its address or user is blocked): not a byte of it reaches
     * the backend; the client gets the protocol's temporary error and the connection closes.
     */
    protected final void refuseLogin(ChannelHandlerContext ctx, ByteBuf raw) {
        raw.release();
        if (failed) {
            return;
        }
        failed = true;
        session.outcome(Session.Outcome.LIMITED, "account-protection");
        releaseBuffers();
        queue.clear();
        ctx.writeAndFlush(ProtocolReplies.encode(ctx.alloc(), ProtocolReplies.throttled(session.rule().protocol())
                .orElseThrow())).addListener(ChannelFutureListener.CLOSE);
    }

    /** The client broke the protocol: it gets the protocol's error, then the connection closes. */
    protected final void violation(ChannelHandlerContext ctx, String kind, String what) {
        fail(ctx, kind, violationReply(what), what);
    }

    /** Ends the connection: {@code reply} to the client, then close; counted and logged as {@code kind}. */
    protected final void fail(ChannelHandlerContext ctx, String kind, String reply, String what) {
        if (failed) {
            return;
        }
        failed = true;
        session.meters().protocolViolation(kind);
        session.outcome(Session.Outcome.PROTOCOL_ERROR, kind);
        log.info("closing connection rule={} client={} reason={}: {}", session.rule().name(), clientAddress(), kind,
                what);
        releaseBuffers();
        queue.clear();
        ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), reply)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseBuffers();
        attempts.discard();
    }

    private void releaseBuffers() {
        ReferenceCountUtil.safeRelease(in);
        ReferenceCountUtil.safeRelease(out);
        in = null;
        out = null;
    }
}
