package org.gatehouse.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.Socket;
import java.io.IOException;
import java.nio.channels.NotYetConnectedException;

/**
 * Ends a connection's output with a TCP FIN while its input stays open, or closes it where a FIN can no longer do
 * anything. Once both directions have ended the connection is over: if the peer already ended its side the socket is
 * closed instead, and otherwise the peer's FIN will close it, rather than have Netty shut down the input of a socket
 * that is by then no longer connected.
 *
 * <p>On epoll the socket is shut down directly. Netty's own {@code shutdownOutput} builds an exception with a stack
 * trace for every call (to fail writes still queued, of which there are none here, since the caller waited for its
 * last write) and raises ENOTCONN as another when the peer reset the connection meanwhile; at one half-close per
 * mail session that was about 1.5% of the gateway's CPU under handshake load (docs/benchmarks.md). The connection's
 * TCP state, asked first (one getsockopt), tells a reset socket from a live one. On NIO Netty's own call is used; the
 * JDK ignores ENOTCONN there, so a reset socket is left to the next read to find.
 */
public final class HalfClose {

    /** From the kernel's tcp_states.h: the states in which our side may still send. */
    private static final int TCP_ESTABLISHED = 1;
    private static final int TCP_CLOSE_WAIT = 8;

    private HalfClose() {
    }

    /** Sends a FIN on {@code ch} once its writes are done (the caller's to wait for), or closes it. */
    public static void sendFin(Channel ch) {
        if (!(ch instanceof DuplexChannel duplex) || !ch.isActive() || duplex.isInputShutdown()) {
            ch.close();
            return;
        }
        ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
        ChannelOutboundBuffer queued = ch.unsafe().outboundBuffer();
        if (ch instanceof EpollSocketChannel epoll && queued != null && queued.totalPendingWriteBytes() == 0) {
            int state = epoll.tcpInfo().state();
            if (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT) {
                ch.close(); // reset by the peer: nothing can reach it any more
                return;
            }
            try {
                ((Socket) epoll.fd()).shutdown(false, true);
            } catch (IOException | NotYetConnectedException e) {
                ch.close(); // reset between the two calls
            }
        } else { // NIO, or writes still queued (a caller that did not wait): Netty fails them
            duplex.shutdownOutput().addListener(f -> {
                if (!f.isSuccess()) {
                    ch.close(); // reset by the peer
                }
            });
        }
    }
}
