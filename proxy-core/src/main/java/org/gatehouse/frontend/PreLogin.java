package org.gatehouse.frontend;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.gatehouse.access.ConnectionLimits;
import org.gatehouse.log.RateLimitedLog;
import org.gatehouse.session.LoggedIn;
import org.gatehouse.session.PipelineNames;
import org.gatehouse.session.ProtocolReplies;
import org.gatehouse.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mail rules: the time before a client has logged in, when it holds one of its rule's pre-login backend connections
 * ({@code maxPreLoginConnections}, taken by the backend connector) and must keep the session moving. It sits after the
 * mail inspector, so it sees the client's commands as the inspector forwards them, whole lines, and the backend's
 * replies: a client that passes no command to the backend and gets no reply from it for {@code preLoginIdleTimeout}
 * (a slowloris trickling a byte at a time never completes a line) gets its protocol's temporary error and is closed,
 * before the backend runs out of processes.
 *
 * <p>The client has logged in when the inspector says so ({@link LoggedIn}: a login accepted, or for SMTP a MAIL
 * command, since a server that relays for unauthenticated senders (port 25) sees no login), or when the inspector has
 * left the pipeline. Then the slot is given back and this handler removes itself, leaving the idle timeout alone in
 * charge.
 *
 * <p>A client that ends its side before logging in gets {@link #HALF_CLOSE_GRACE_MILLIS} for the answers to what it
 * sent (its QUIT), then the connection closes, whatever the backend does with the half-close.
 */
final class PreLogin extends IdleStateHandler {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.connections");
    private static final RateLimitedLog SHED = new RateLimitedLog(log);

    /** How long a client that ended its side before logging in has for the answers to what it sent. */
    static final long HALF_CLOSE_GRACE_MILLIS = 5_000;

    private final Session session;
    private final ConnectionLimits.PreLoginSlot slot;
    private boolean over;
    private ScheduledFuture<?> grace;

    /** @param idleMillis the pre-login idle timeout; 0 for none (then it only gives the slot back at login) */
    PreLogin(Session session, ConnectionLimits.PreLoginSlot slot, long idleMillis) {
        super(0, 0, idleMillis, TimeUnit.MILLISECONDS);
        this.session = requireNonNull(session, "session");
        this.slot = requireNonNull(slot, "slot");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        super.channelRead(ctx, msg);
        if (inspectorGone(ctx)) {
            loggedIn(ctx);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) throws Exception {
        // The inspector leaves while it writes the reply to a login: by the flush that follows, it is gone.
        super.flush(ctx);
        if (inspectorGone(ctx)) {
            loggedIn(ctx);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt == LoggedIn.INSTANCE) {
            loggedIn(ctx);
            ctx.fireUserEventTriggered(evt);
            return;
        }
        if (evt == ChannelInputShutdownEvent.INSTANCE && grace == null && !over) {
            grace = ctx.executor().schedule(() -> {
                if (!over) {
                    over = true;
                    ctx.close();
                }
            }, HALF_CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
        if (evt.state() != IdleState.ALL_IDLE || over) {
            return;
        }
        if (inspectorGone(ctx)) {
            loggedIn(ctx); // logged in, then quiet: the idle timeout's business, not ours
            return;
        }
        over = true;
        session.outcome(Session.Outcome.IDLE, "pre-login-idle-timeout");
        session.meters().preLoginIdleTimeout();
        String rule = session.rule().name();
        SHED.info("idle/" + rule, () -> "closed clients idle before logging in rule=" + rule
                + " preLoginIdleTimeout_ms=" + session.rule().limits().preLoginIdleTimeout().toMillis());
        ProtocolReplies.idleBeforeLogin(session.rule().protocol()).ifPresentOrElse(line -> {
            // Past the inspector, which would take the line for one of the backend's.
            ChannelHandlerContext inspector = ctx.pipeline().context(PipelineNames.INSPECT);
            ByteBuf bytes = ProtocolReplies.encode(ctx.alloc(), line);
            ChannelFuture written = inspector != null ? inspector.writeAndFlush(bytes) : ctx.writeAndFlush(bytes);
            written.addListener(ChannelFutureListener.CLOSE);
        }, ctx::close);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
        if (grace != null) {
            grace.cancel(false);
        }
        super.handlerRemoved(ctx);
    }

    private void loggedIn(ChannelHandlerContext ctx) {
        if (over) {
            return;
        }
        over = true;
        slot.release();
        ctx.pipeline().remove(this);
    }

    private static boolean inspectorGone(ChannelHandlerContext ctx) {
        return ctx.pipeline().context(PipelineNames.INSPECT) == null;
    }
}
