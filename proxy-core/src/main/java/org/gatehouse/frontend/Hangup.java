package org.gatehouse.frontend;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import org.gatehouse.log.RateLimitedLog;
import org.gatehouse.session.PipelineNames;
import org.gatehouse.session.ResourceFailures;
import org.gatehouse.session.Session;
import org.gatehouse.session.SocketFailures;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of every client connection: ends it the moment its client is gone while the gateway still waits
 * for that client (for its PROXY header, while its name is looked up, during its TLS handshake) or, on a mail rule,
 * before the backend connection is in place, so that a connect-and-hang-up flood gives every slot back at once instead
 * of holding it for a timeout (or holding a backend connection). A FIN there cannot be a half-close worth keeping: none
 * of those waits can end without the client sending more, and a mail client that ends its side before the server has
 * even greeted it has no session to have. Past them, a FIN is passed on as half-close, as the relay promises (the
 * backend then ends the session).
 *
 * <p>A connection whose socket failed (a reset, a broken pipe) is closed here, nearest the socket, before the handlers
 * after it see the failure: none of them can send anything more on it (see {@link SocketFailures}).
 *
 * <p>It also ends, alone, a connection that runs out of memory (a buffer the allocator could not give): the others go
 * on. Both are expected at the edge, so they are counted and logged once per interval, never with a stack trace.
 */
final class Hangup extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.connections");
    private static final RateLimitedLog HANGUPS = new RateLimitedLog(log);

    private final Session session;

    Hangup(Session session) {
        this.session = requireNonNull(session, "session");
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            String stage = waitingFor(ctx);
            if (stage != null) {
                gone(ctx, stage);
                return;
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (ResourceFailures.isMemoryFailure(cause)) {
            ResourceFailures.endConnection(ctx.channel(), session, cause);
            return;
        }
        String stage = waitingFor(ctx);
        if (stage != null && cause instanceof IOException) {
            log.debug("client gone rule={} client={} stage={}: {}", session.rule().name(), session.client(), stage,
                    cause.toString());
            gone(ctx, stage); // a reset
            return;
        }
        if (SocketFailures.isSocketFailure(cause)) {
            // Closed here, before the handlers after this one (which would write a close_notify); the access line,
            // written as it closes, says why.
            session.outcome(Session.Outcome.CLOSED, "client-reset");
            SocketFailures.closeBroken(ctx);
        }
        ctx.fireExceptionCaught(cause);
    }

    private void gone(ChannelHandlerContext ctx, String stage) {
        session.meters().abandoned(stage);
        String rule = session.rule().name();
        HANGUPS.info(rule + "/" + stage, () -> "clients hung up before their " + describe(stage) + " rule=" + rule
                + " stage=" + stage);
        ctx.close();
    }

    /** What the gateway still waits for from the client, or null when it waits for nothing in particular. */
    static String waitingFor(ChannelPipeline p) {
        if (p.get(PipelineNames.PROXY_PROTOCOL) != null) {
            return "proxy-header";
        }
        if (p.get(PipelineNames.ACCESS_GATE) != null) {
            return "access";
        }
        SslHandler ssl = p.get(SslHandler.class);
        if (ssl != null && !ssl.handshakeFuture().isDone()) {
            return "tls-handshake";
        }
        return null;
    }

    /** As {@link #waitingFor}, and on a mail rule, a backend connection not in place yet. */
    private String waitingFor(ChannelHandlerContext ctx) {
        String stage = waitingFor(ctx.pipeline());
        if (stage == null && session.rule().protocol().isMail()
                && ctx.pipeline().get(PipelineNames.BACKEND_CONNECT) != null) {
            return "backend-connect";
        }
        return stage;
    }

    private static String describe(String stage) {
        return switch (stage) {
            case "proxy-header" -> "PROXY header";
            case "access" -> "access check";
            case "backend-connect" -> "backend connection";
            default -> "TLS handshake";
        };
    }
}
