package org.gatehouse.proxy;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.gatehouse.rules.Backend;

/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, v1 text or v2 binary) that tells a backend who the client
 * is: written first on the backend connection, before any client byte, by Netty's encoder.
 */
public final class ProxyHeaders {

    private ProxyHeaders() {
    }

    /** Writes the header for a client connected to {@code local}; the relay's first byte follows it. */
    public static ChannelFuture send(Channel backend, Backend.ProxyProtocol version, InetSocketAddress client,
            InetSocketAddress local) {
        InetAddress src = client.getAddress();
        InetAddress dst = local.getAddress();
        boolean v4 = src instanceof Inet4Address && dst instanceof Inet4Address;
        HAProxyMessage message = new HAProxyMessage(version(version), HAProxyCommand.PROXY,
                v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6, text(src, v4), text(dst, v4),
                client.getPort(), local.getPort());
        return write(backend, message);
    }

    /** A LOCAL header (v2) or {@code PROXY UNKNOWN} (v1): the gateway speaking for itself, as in a health check. */
    public static ChannelFuture sendLocal(Channel backend, Backend.ProxyProtocol version) {
        if (version == Backend.ProxyProtocol.V1) {
            // Written by hand: Netty's encoder (4.2.18) fails on a v1 UNKNOWN message without addresses.
            return backend.writeAndFlush(ByteBufUtil.writeAscii(backend.alloc(), "PROXY UNKNOWN\r\n"));
        }
        return write(backend, new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0));
    }

    private static ChannelFuture write(Channel backend, HAProxyMessage message) {
        backend.pipeline().addFirst(HAProxyMessageEncoder.INSTANCE);
        ChannelFuture written = backend.writeAndFlush(message);
        backend.pipeline().remove(HAProxyMessageEncoder.INSTANCE);
        return written;
    }

    private static HAProxyProtocolVersion version(Backend.ProxyProtocol version) {
        return version == Backend.ProxyProtocol.V1 ? HAProxyProtocolVersion.V1 : HAProxyProtocolVersion.V2;
    }

    /** An address in the header's family; an IPv4 address beside an IPv6 one is written IPv4-mapped. */
    private static String text(InetAddress address, boolean v4) {
        if (v4 || !(address instanceof Inet4Address)) {
            return address.getHostAddress();
        }
        return "::ffff:" + address.getHostAddress();
    }
}
