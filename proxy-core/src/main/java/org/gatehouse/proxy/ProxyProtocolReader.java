package org.gatehouse.proxy;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;
import org.gatehouse.log.LogText;
import org.gatehouse.rules.ClientList;
import org.gatehouse.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For a rule behind a load balancer that sends the PROXY protocol: the connection must come from one of the trusted
 * addresses and start with a valid header (v1 or v2, Netty's decoder), within the handshake timeout; the header's
 * source then is the client for the access lists, limits and logs. Anything else is closed without a byte sent. Only
 * then does the access gate see the connection become active.
 */
public final class ProxyProtocolReader extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ProxyProtocolReader.class);

    private final Session session;
    private final ClientList trusted;
    private final long timeoutMillis;
    private ScheduledFuture<?> timeout;
    private boolean decided;

    public ProxyProtocolReader(Session session, ClientList trusted, long timeoutMillis) {
        this.session = requireNonNull(session, "session");
        this.trusted = requireNonNull(trusted, "trusted");
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        InetSocketAddress peer = session.client();
        if (!trusted.addresses().contains(peer.getAddress().getAddress())) {
            refuse(ctx, "proxy-untrusted", "a PROXY header is accepted only from " + trusted.entries());
            return;
        }
        ctx.pipeline().addBefore(ctx.name(), null, new HAProxyMessageDecoder());
        timeout = ctx.executor().schedule(() -> refuse(ctx, "proxy-header-missing", "no PROXY header within "
                + timeoutMillis + " ms"), timeoutMillis, TimeUnit.MILLISECONDS);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (decided || !(msg instanceof HAProxyMessage header)) {
            ctx.fireChannelRead(msg); // bytes after the header, decoded in the same read: the access gate holds them
            return;
        }
        InetSocketAddress proxied = null;
        try {
            if (header.command() == HAProxyCommand.PROXY && header.sourceAddress() != null) {
                // A literal address: no name service is asked.
                proxied = new InetSocketAddress(InetAddress.getByName(header.sourceAddress()), header.sourcePort());
            }
        } catch (UnknownHostException e) {
            refuse(ctx, "proxy-header-invalid", "source address " + header.sourceAddress());
            return;
        } finally {
            ReferenceCountUtil.release(header);
        }
        decided = true;
        timeout.cancel(false);
        if (proxied != null) {
            session.proxiedClient(proxied);
        }
        ctx.pipeline().remove(this);
        ctx.fireChannelActive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!decided || cause instanceof HAProxyProtocolException
                || cause.getCause() instanceof HAProxyProtocolException) {
            // The decoder may fail again on what is left of the read after its first failure: refused once, quietly.
            refuse(ctx, "proxy-header-invalid", cause.getMessage());
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    private void refuse(ChannelHandlerContext ctx, String reason, String detail) {
        if (decided) {
            return;
        }
        decided = true;
        if (timeout != null) {
            timeout.cancel(false);
        }
        session.meters().rejected(reason);
        session.outcome(Session.Outcome.DENIED, reason);
        if (log.isDebugEnabled()) {
            // The decoder's message can quote the header, which is the peer's text.
            log.debug("refused rule={} peer={} reason={}: {}", session.rule().name(), session.client(), reason,
                    detail == null ? "-" : LogText.clean(detail));
        }
        ctx.close();
    }
}
