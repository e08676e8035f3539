package org.gatehouse.access;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import org.gatehouse.session.ProtocolReplies;
import org.gatehouse.session.Session;

/**
 * Tells a client of an implicit-TLS listener one line (its protocol's "try again later") once the TLS handshake is
 * done, then closes: the only way such a client can read why it is turned away. Anything it sends is discarded.
 */
final class TlsRefusal extends ChannelInboundHandlerAdapter {

    private final Session session;
    private final String line;

    TlsRefusal(Session session, String line) {
        this.session = session;
        this.line = line;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.read(); // the ClientHello; the SslHandler reads on by itself until the handshake is done
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent handshake && handshake.isSuccess()) {
            // (A failure is recorded and closed by tls.HandshakeOutcome.)
            ctx.writeAndFlush(ProtocolReplies.encode(ctx.alloc(), line)).addListener(ChannelFutureListener.CLOSE);
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
