package org.gatehouse.relay;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import org.gatehouse.session.Session;

/**
 * Moves bytes from the channel it sits on to its peer, unchanged.
 *
 * <ul>
 *   <li>Writes as it reads and flushes once per read batch.
 *   <li>Backpressure: when this channel cannot take more writes, the peer stops reading until it can.
 *   <li>Half-close: the end of this side's input (FIN, or a TLS close_notify) becomes the end of the peer's output; the
 *       connection closes when both directions have ended.
 *   <li>When either side closes, the other is closed after its pending writes are flushed.
 * </ul>
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {

    private final Channel peer;
    private final Session session;
    private final boolean fromClient;

    RelayHandler(Channel peer, Session session, boolean fromClient) {
        this.peer = requireNonNull(peer, "peer");
        this.session = requireNonNull(session, "session");
        this.fromClient = fromClient;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!peer.isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof ByteBuf buf) {
            if (fromClient) {
                session.fromClient(buf.readableBytes());
            } else {
                session.toClient(buf.readableBytes());
            }
        }
        peer.write(msg, peer.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // This side's outbound buffer is full (or drained): stop (or resume) reading what would be written to it.
        Relay.setReading(peer, ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (Relay.isEndOfInput(evt)) {
            inputEnded(ctx.channel());
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** This side will send nothing more: pass that on, and close when neither side can send any more. */
    void inputEnded(Channel self) {
        Relay.shutdownOutput(peer);
        SslHandler ssl = self.pipeline().get(SslHandler.class);
        boolean selfCannotWrite = Relay.outputShutdown(self) || (ssl != null && ssl.engine().isOutboundDone());
        if (selfCannotWrite) {
            // Both directions are over (or the TLS engine ended its side with the client's close_notify).
            Relay.closeOnFlush(peer);
            Relay.closeOnFlush(self);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Relay.closeOnFlush(peer);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Failures.log(session, fromClient ? "client" : "backend", cause);
        ctx.close();
        Relay.closeOnFlush(peer);
    }
}
