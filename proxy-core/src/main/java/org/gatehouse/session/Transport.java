package org.gatehouse.session;

import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/** The socket implementation: native epoll on Linux when it loads, Java NIO elsewhere. */
public record Transport(
        String name,
        IoHandlerFactory ioHandlerFactory,
        Class<? extends ServerChannel> serverChannel,
        Class<? extends SocketChannel> socketChannel,
        Class<? extends DatagramChannel> datagramChannel) {

    public static Transport detect() {
        if (Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                    EpollSocketChannel.class, EpollDatagramChannel.class);
        }
        Throwable cause = Epoll.unavailabilityCause();
        return new Transport("nio" + (cause == null ? "" : " (epoll unavailable: " + cause.getMessage() + ")"),
                NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
                NioDatagramChannel.class);
    }

    /** Whether backend connections can be opened from a client's address (IP_TRANSPARENT, epoll only). */
    public boolean supportsTransparent() {
        return EpollSocketChannel.class.equals(socketChannel);
    }

    /**
     * Makes sockets of {@code type} with a plain constructor call. Netty's {@code Bootstrap.channel(Class)} looks the
     * constructor up by reflection for every bootstrap and calls it reflectively, and a bootstrap is built for every
     * backend connection.
     */
    public static ChannelFactory<SocketChannel> socketFactory(Class<? extends SocketChannel> type) {
        if (type == EpollSocketChannel.class) {
            return EpollSocketChannel::new;
        }
        if (type == NioSocketChannel.class) {
            return NioSocketChannel::new;
        }
        ChannelFactory<? extends SocketChannel> reflective = new ReflectiveChannelFactory<>(type);
        return reflective::newChannel;
    }

    public EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory);
    }
}
