package org.gatehouse.gateway;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.gatehouse.log.RateLimitedLog;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.session.ResourceFailures;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On a listening socket: an accept that fails (the process is out of file descriptors, mostly) pauses accepting for a
 * moment instead of retrying at once in a busy loop, and is counted and logged once per interval, without the stack
 * trace Netty would log each time. Clients meanwhile wait in the kernel's listen queue and are accepted once
 * descriptors come back.
 */
public final class AcceptErrors extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.connections");
    private static final RateLimitedLog LOG = new RateLimitedLog(log);

    /** How long accepting pauses after a failed accept. */
    static final long PAUSE_MILLIS = 250;

    private final GatewayMetrics.RuleMeters meters;

    public AcceptErrors(GatewayMetrics.RuleMeters meters) {
        this.meters = requireNonNull(meters, "meters");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException) && !ResourceFailures.isOutOfFileDescriptors(cause)) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        if (ResourceFailures.isOutOfFileDescriptors(cause)) {
            ResourceFailures.outOfFileDescriptors(meters, "accept", "new clients wait in the listen queue");
        } else {
            String rule = meters.rule();
            LOG.warn("accept/" + rule, () -> "accept failed rule=" + rule + ": " + cause.getMessage());
        }
        ChannelConfig config = ctx.channel().config();
        if (config.isAutoRead()) {
            config.setAutoRead(false);
            ctx.executor().schedule(() -> {
                if (ctx.channel().isOpen()) {
                    config.setAutoRead(true);
                }
            }, PAUSE_MILLIS, TimeUnit.MILLISECONDS);
        }
    }
}
