package org.gatehouse.access;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import java.util.function.Consumer;
import org.gatehouse.rules.AccessDecision;
import org.gatehouse.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of every client connection: checks the client address against the rule's access lists when the
 * connection becomes active. A denied client is closed without a byte sent; an admitted one gets the rest of its
 * pipeline and this handler removes itself.
 *
 * <p>The channel does not read until the decision is made (auto-read is off), so no TLS byte crosses either way before.
 */
public final class AccessGate extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(AccessGate.class);

    private final Session session;
    private final Consumer<ChannelPipeline> admitted;

    /**
     * @param admitted adds the handlers that follow the gate, after it, for an admitted client
     */
    public AccessGate(Session session, Consumer<ChannelPipeline> admitted) {
        this.session = requireNonNull(session, "session");
        this.admitted = requireNonNull(admitted, "admitted");
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        AccessDecision decision = session.rule().access().decide(session.client().getAddress());
        if (decision instanceof AccessDecision.Denied denied) {
            String reason = denied.reason().label();
            session.meters().rejected(reason);
            session.outcome(Session.Outcome.DENIED, reason);
            log.debug("denied rule={} client={} reason={}", session.rule().name(), session.client(), reason);
            ctx.close();
            return;
        }
        session.meters().accepted();
        admitted.accept(ctx.pipeline());
        ctx.fireChannelActive();
        ctx.pipeline().remove(this);
    }
}
