package org.gatehouse.relay;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.gatehouse.session.PipelineNames;
import org.gatehouse.session.Session;
import org.gatehouse.session.SocketFailures;

/**
 * Moves bytes from the channel it sits on to its peer, unchanged.
 *
 * <ul>
 *   <li>Writes as it reads and flushes once per read batch.
 *   <li>Backpressure: when this channel cannot take more writes, the peer stops reading until it can.
 *   <li>Half-close: the end of this side's input (FIN, or a TLS close_notify) becomes the end of the peer's output; the
 *       connection closes when both directions have ended.
 *   <li>When either side closes, the other is closed after its pending writes are flushed; except that a mail server
 *       ending its side closes its own connection at once and leaves the client's half-closed for the client to end,
 *       for at most {@link #SERVER_END_GRACE_MILLIS}.
 * </ul>
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {

    private final Channel peer;
    private final Session session;
    private final boolean fromClient;
    /** A mail server ended its side: its connection closed, the client's output was ended and the client ends it. */
    private boolean serverEnded;

    /** How long a client whose mail server ended the session has to end its own connection. */
    static final long SERVER_END_GRACE_MILLIS = 5_000;

    RelayHandler(Channel peer, Session session, boolean fromClient) {
        this.peer = requireNonNull(peer, "peer");
        this.session = requireNonNull(session, "session");
        this.fromClient = fromClient;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!peer.isActive()) {
            // Nothing reaches the other side any more (a mail server that ended the session): this side ends too.
            ReferenceCountUtil.release(msg);
            Relay.closeOnFlush(ctx.channel());
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
        if (!fromClient && session.rule().protocol().isMail() && relaying(self)) {
            // A mail server that ends its side is done with the session (after QUIT, LOGOUT or 221, or on an error)
            // and reads nothing more: its connection closes now, and the client, told by close_notify and FIN, has a
            // few seconds to end its own (anything it sends meanwhile ends it at once). Kept half-open instead, Netty
            // would take the server's socket out of epoll and fail to take it out again at close, raising an
            // exception with its stack trace for nearly every session.
            serverEnded = true;
            Relay.closeOnFlush(self);
            Future<?> grace = peer.eventLoop().schedule(() -> Relay.closeOnFlush(peer), SERVER_END_GRACE_MILLIS,
                    TimeUnit.MILLISECONDS);
            // Cancelled when the client ends first, as most do: the timer would otherwise hold the closed connection.
            peer.closeFuture().addListener(f -> grace.cancel(false));
            return;
        }
        SslHandler ssl = self.pipeline().get(SslHandler.class);
        boolean selfCannotWrite = Relay.outputShutdown(self) || (ssl != null && ssl.engine().isOutboundDone());
        if (selfCannotWrite) {
            // Both directions are over (or the TLS engine ended its side with the client's close_notify).
            Relay.closeOnFlush(peer);
            Relay.closeOnFlush(self);
        }
    }

    /**
     * Whether the backend connection is past its greeting and any client-identity dialogue: before that, a server
     * that ends its side has failed the client (the greeting timeout and the dialogue say so and count it).
     */
    private static boolean relaying(Channel backend) {
        return backend.pipeline().get(PipelineNames.GREETING_TIMEOUT) == null
                && backend.pipeline().get(PipelineNames.CLIENT_IDENTITY) == null;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!serverEnded) {
            Relay.closeOnFlush(peer);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Failures.log(session, fromClient ? "client" : "backend", cause);
        if (SocketFailures.isSocketFailure(cause)) {
            SocketFailures.closeBroken(ctx);
        } else {
            ctx.close();
        }
        Relay.closeOnFlush(peer);
    }
}
