package org.gatehouse.tls;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import org.gatehouse.session.PipelineNames;
import org.gatehouse.session.Session;

/**
 * The one owner of a client's TLS handshake outcome, implicit or after STARTTLS: it sits right after the
 * {@link SslHandler}, records the outcome ({@link Handshakes}: version, cipher, SNI, client certificate, or why it
 * failed, with {@link ClientAlerts} before the {@link SslHandler} watching for the client's own alert), closes the connection when it failed, and passes Netty's completion event on, so the handlers after it
 * act only on a success. It leaves once the handshake has ended.
 */
public final class HandshakeOutcome extends ChannelInboundHandlerAdapter {

    private final Session session;
    private final ClientAlerts alerts = new ClientAlerts();

    private HandshakeOutcome(Session session) {
        this.session = requireNonNull(session, "session");
    }

    /** Adds {@code tls} and its outcome's owner at the end of {@code pipeline}. */
    public static void addLast(ChannelPipeline pipeline, ChannelHandler tls, Session session) {
        HandshakeOutcome outcome = new HandshakeOutcome(session);
        pipeline.addLast(PipelineNames.TLS_ALERTS, outcome.alerts);
        pipeline.addLast(PipelineNames.TLS, tls);
        pipeline.addLast(PipelineNames.HANDSHAKE, outcome);
    }

    /** Adds {@code tls} and its outcome's owner before the handler named {@code before} (STARTTLS). */
    public static void addBefore(ChannelPipeline pipeline, String before, ChannelHandler tls, Session session) {
        HandshakeOutcome outcome = new HandshakeOutcome(session);
        pipeline.addBefore(before, PipelineNames.TLS_ALERTS, outcome.alerts);
        pipeline.addBefore(before, PipelineNames.TLS, tls);
        pipeline.addBefore(before, PipelineNames.HANDSHAKE, outcome);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!(evt instanceof SslHandshakeCompletionEvent handshake)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        boolean succeeded = Handshakes.completed(session, ctx.pipeline().get(SslHandler.class), handshake,
                alerts.reason());
        if (ctx.pipeline().context(alerts) != null) {
            ctx.pipeline().remove(alerts);
        }
        ctx.pipeline().remove(this);
        ctx.fireUserEventTriggered(evt);
        if (!succeeded) {
            ctx.close();
        }
    }
}
