package org.gatehouse.frontend;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import org.gatehouse.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a client connection (and so its backend connection) through which no byte has passed either way for the
 * rule's idle timeout. Nothing is written first: the relay is byte-transparent, and a line injected mid-stream could
 * land inside a message; mail servers send their own autologout notice before the same limit.
 */
final class IdleTimeout extends IdleStateHandler {

    private static final Logger log = LoggerFactory.getLogger(IdleTimeout.class);

    private final Session session;

    IdleTimeout(Session session, long idleMillis) {
        super(0, 0, idleMillis, TimeUnit.MILLISECONDS);
        this.session = session;
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
        if (evt.state() == IdleState.ALL_IDLE) {
            session.outcome(Session.Outcome.IDLE, "idle-timeout");
            session.meters().idleTimeout();
            log.debug("idle timeout rule={} client={}", session.rule().name(), session.client());
            ctx.close();
        }
    }
}
