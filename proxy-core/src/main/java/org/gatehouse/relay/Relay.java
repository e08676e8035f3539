package org.gatehouse.relay;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;

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
     * Tells the peer on {@code ch} that no more bytes will come, after what was written is flushed: a TLS close_notify
     * first where the channel speaks TLS, then a TCP FIN.
     */
    static void shutdownOutput(Channel ch) {
        if (!ch.isActive()) {
            return;
        }
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            if (ssl != null) {
                ssl.closeOutbound().addListener(g -> shutdownSocketOutput(ch));
            } else {
                shutdownSocketOutput(ch);
            }
        });
    }

    private static void shutdownSocketOutput(Channel ch) {
        if (ch instanceof DuplexChannel duplex && ch.isActive()) {
            duplex.shutdownOutput();
        } else {
            ch.close();
        }
    }

    static boolean outputShutdown(Channel ch) {
        return ch instanceof DuplexChannel duplex && duplex.isOutputShutdown();
    }
}
