package org.gatehouse.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import java.util.Optional;
import org.gatehouse.session.HalfClose;
import org.gatehouse.session.PipelineNames;
import org.gatehouse.session.ProtocolReplies;

/** Closing and half-closing the two channels of a relay. */
final class Relay {

    private Relay() {
    }

    /** Closes {@code ch} once everything already written to it has been flushed. */
    static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            ch.close();
        }
    }

    /**
     * Gives a client whose backend failed it before the relay began its protocol's {@code line} (if it has one) and
     * closes it once written. The line goes past the mail inspector, which would take it for the greeting it waits for.
     */
    static void sayAndClose(Channel frontend, Optional<String> line) {
        line.ifPresentOrElse(text -> {
            ChannelHandlerContext inspector = frontend.pipeline().context(PipelineNames.INSPECT);
            ByteBuf bytes = ProtocolReplies.encode(frontend.alloc(), text);
            if (inspector != null) {
                inspector.writeAndFlush(bytes);
            } else {
                frontend.writeAndFlush(bytes);
            }
            closeOnFlush(frontend);
        }, frontend::close);
    }

    /**
     * Tells the peer on {@code ch} that no more bytes will come, after what was written is flushed: a TLS close_notify
     * first where the channel speaks TLS, then a TCP FIN. A write that failed means the socket is gone: it is closed
     * rather than shut down, which would only fail again (ENOTCONN, raised by Netty with a stack trace).
     */
    static void shutdownOutput(Channel ch) {
        if (!ch.isActive()) {
            return;
        }
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            if (!f.isSuccess()) {
                ch.close(); // the socket failed (the peer reset it): nothing more can reach the peer
            } else if (ssl != null) {
                ssl.closeOutbound().addListener(g -> {
                    if (g.isSuccess()) {
                        HalfClose.sendFin(ch);
                    } else {
                        ch.close();
                    }
                });
            } else {
                HalfClose.sendFin(ch);
            }
        });
    }

    /**
     * Turns reading on or off, unless the channel is closed or its input already ended: asking epoll for more input
     * on a shut-down input fails.
     */
    static void setReading(Channel ch, boolean on) {
        if (ch.isActive() && !(ch instanceof DuplexChannel duplex && duplex.isInputShutdown())) {
            ch.config().setAutoRead(on);
        }
    }

    /** Whether an inbound event says that the channel's peer will send nothing more. */
    static boolean isEndOfInput(Object evt) {
        return evt == ChannelInputShutdownEvent.INSTANCE
                || (evt instanceof SslCloseCompletionEvent closed && closed.isSuccess());
    }

    static boolean outputShutdown(Channel ch) {
        return ch instanceof DuplexChannel duplex && duplex.isOutputShutdown();
    }
}
