package org.gatehouse.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.gatehouse.testing.Eventually;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link HalfClose#sendFin} over real loopback sockets, with the native transport where it loads and with NIO: a live
 * connection gets a FIN and can still be read from; one its peer reset is closed, with no failure raised in its
 * pipeline.
 */
class SendFinTest {

    private static final int TCP_CLOSE = 7;

    private EventLoopGroup group;
    private Channel server;

    static Stream<String> transports() {
        return Transport.detect().name().equals("epoll") ? Stream.of("epoll", "nio") : Stream.of("nio");
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close().sync();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Listens on loopback and completes with the first accepted channel, read manually, with its events recorded. */
    private CompletableFuture<SocketChannel> listen(String transport, List<String> events) throws Exception {
        Transport t = transport.equals("epoll")
                ? Transport.detect()
                : new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
                        NioSocketChannel.class, null);
        group = new MultiThreadIoEventLoopGroup(1, t.ioHandlerFactory());
        CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
        server = new ServerBootstrap().group(group).channel(t.serverChannel())
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        accepted.complete((SocketChannel) ctx.channel());
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf bytes = (ByteBuf) msg;
                        events.add("read " + bytes.toString(StandardCharsets.US_ASCII));
                        bytes.release();
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        events.add("exception " + cause);
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        return accepted;
    }

    @ParameterizedTest
    @MethodSource("transports")
    void aLiveConnectionGetsAFinAndItsInputStaysOpen(String transport) throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        CompletableFuture<SocketChannel> accepted = listen(transport, events);
        try (Socket client = new Socket("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort())) {
            client.setSoTimeout(10_000);
            SocketChannel ch = accepted.get(10, TimeUnit.SECONDS);

            ch.eventLoop().submit(() -> HalfClose.sendFin(ch)).sync();

            InputStream in = client.getInputStream();
            assertThat(in.read()).as("the client reads the FIN").isEqualTo(-1);
            assertThat(ch.isOpen()).isTrue();
            assertThat(((DuplexChannel) ch).isOutputShutdown()).isTrue();
            OutputStream out = client.getOutputStream();
            out.write("still here".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ch.eventLoop().submit(ch::read).sync();
            Eventually.until("the gateway side reads it", () -> events.contains("read still here"));
            client.shutdownOutput();
            ch.eventLoop().submit(ch::read).sync();
            assertThat(ch.closeFuture().await(10, TimeUnit.SECONDS)).as("the client's FIN ends the connection")
                    .isTrue();
        }
        assertThat(events).noneMatch(e -> e.startsWith("exception"));
    }

    /**
     * Native transport only: there the connection's TCP state is asked first. (The JDK's NIO ignores ENOTCONN from
     * shutdown(2), so on NIO the reset is seen by the next read instead, which the gateway's pipeline handles.)
     */
    @Test
    void aConnectionItsPeerResetIsClosedWithoutAFailure() throws Exception {
        assumeTrue(Transport.detect().name().equals("epoll"), "the native transport is not available here");
        List<String> events = new CopyOnWriteArrayList<>();
        CompletableFuture<SocketChannel> accepted = listen("epoll", events);
        Socket client = new Socket("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort());
        SocketChannel ch = accepted.get(10, TimeUnit.SECONDS);
        client.setSoLinger(true, 0);

        // In one task on the channel's own loop, so that Netty cannot see the reset before sendFin does.
        ch.eventLoop().submit(() -> {
            client.close(); // an RST
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (((EpollSocketChannel) ch).tcpInfo().state() != TCP_CLOSE && System.nanoTime() < deadline) {
                Thread.sleep(1); // the kernel may process it later on a busy machine
            }
            HalfClose.sendFin(ch);
            return null;
        }).sync();

        assertThat(ch.closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(events).as("nothing failed: the socket was closed, not shut down").isEmpty();
    }
}
