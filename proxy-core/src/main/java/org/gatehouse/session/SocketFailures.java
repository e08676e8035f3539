package org.gatehouse.session;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import javax.net.ssl.SSLException;

/**
 * A connection whose socket failed under it: the peer reset it, or a write met a broken pipe. Nothing more can be sent
 * on it, neither a TLS close_notify nor a FIN, so it is closed at once and never half-closed. Left to its defaults,
 * Netty would call shutdown(2) on the dead socket right after the failure and raise its ENOTCONN as an exception with
 * a stack trace, once per connection, which every client that closes with unread data (most OpenSSL-based ones) would
 * cost the gateway.
 */
public final class SocketFailures {

    private SocketFailures() {
    }

    /** Whether {@code cause} is the socket's own failure, rather than TLS's (an alert, a bad record) or the gateway's. */
    public static boolean isSocketFailure(Throwable cause) {
        return cause instanceof IOException && !(cause instanceof SSLException);
    }

    /**
     * Closes the connection from {@code ctx}'s place in the pipeline, so that the handlers after it (a TLS handler
     * that would write its close_notify) are not asked to write, and tells Netty not to half-close it.
     */
    public static void closeBroken(ChannelHandlerContext ctx) {
        ctx.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
        ctx.close();
    }
}
