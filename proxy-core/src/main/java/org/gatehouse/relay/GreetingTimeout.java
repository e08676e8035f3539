package org.gatehouse.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.gatehouse.backend.BackendPool;
import org.gatehouse.backend.ServerState;
import org.gatehouse.log.RateLimitedLog;
import org.gatehouse.session.PipelineNames;
import org.gatehouse.session.ProtocolReplies;
import org.gatehouse.session.Session;
import org.slf4j.LoggerFactory;

/**
 * On a mail rule's backend connection, first: the server must send its greeting within the pool's
 * {@code greetingTimeout}. One that accepted the connection and says nothing (hung, or at its process limit with the
 * connection still in its queue) gets the client its protocol's temporary error ({@code -ERR [SYS/TEMP]},
 * {@code * BYE [UNAVAILABLE]}, {@code 421 4.4.2}) instead of a wait for the idle timeout; it counts against the server's
 * health (a failed check, where the pool has health checks) and is logged once per interval. Removes itself at the
 * first byte, or where the pool tells the client's address in the protocol, when {@link ClientIdentityExchange} is
 * done.
 */
final class GreetingTimeout extends ChannelInboundHandlerAdapter {

    private static final RateLimitedLog LOG = new RateLimitedLog(LoggerFactory.getLogger("gatehouse.backend"));

    private final Channel frontend;
    private final Session session;
    private final BackendPool pool;
    private final ServerState server;
    private final long timeoutMillis;
    private ScheduledFuture<?> timer;

    GreetingTimeout(Channel frontend, Session session, BackendPool pool, ServerState server, long timeoutMillis) {
        this.frontend = frontend;
        this.session = session;
        this.pool = pool;
        this.server = server;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> silent(ctx), timeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        timer.cancel(false);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf && buf.isReadable()
                && ctx.pipeline().get(PipelineNames.CLIENT_IDENTITY) == null) {
            // It spoke: greeted, or said why not, which the client reads as it is. With a client-identity dialogue,
            // the timeout covers the dialogue too, and the dialogue removes it.
            ctx.pipeline().remove(this);
        }
        ctx.fireChannelRead(msg);
    }

    private void silent(ChannelHandlerContext ctx) {
        if (!ctx.channel().isActive() || !frontend.isActive()) {
            return;
        }
        String rule = session.rule().name();
        session.outcome(Session.Outcome.BACKEND_UNAVAILABLE, "greeting-timeout");
        session.meters().rejected("greeting-timeout");
        session.meters().greetingTimeout(server.toString());
        pool.greetingTimedOut(server, "no greeting within " + timeoutMillis + " ms from a client's connection");
        String what = ctx.pipeline().get(PipelineNames.CLIENT_IDENTITY) == null
                ? "greet"
                : "greet and answer the client-identity commands";
        LOG.warn("silent/" + rule + "/" + server,
                () -> "backend did not " + what + " rule=" + rule + " backend=" + server
                        + " greetingTimeout_ms=" + timeoutMillis + ": clients get \"try again later\"");
        Relay.sayAndClose(frontend, ProtocolReplies.backendSilent(session.rule().protocol()));
        ctx.channel().close(); // after the line is queued: the relay closes the client once it is written
    }
}
