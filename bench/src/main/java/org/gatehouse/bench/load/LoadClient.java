package org.gatehouse.bench.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.internal.tcnative.SSL;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.gatehouse.session.Transport;

/**
 * The load client: Netty with the OpenSSL engine, every loop bounded in time and count, traffic to 127.0.0.1 only.
 * The certificate is not verified: the same self-made certificate is served by every proxy under test.
 *
 * <p>It offers the key-exchange groups every proxy under test supports ({@link Groups#CLASSICAL}), so that all of
 * them do the same work per handshake; {@link Groups#LIBRARY_DEFAULT} offers BoringSSL's own list, post-quantum
 * hybrid X25519MLKEM768 first, which only a proxy whose TLS library knows it negotiates.
 */
final class LoadClient implements AutoCloseable {

    private final Transport transport;
    private final EventLoopGroup group;
    private final SslContext classical;
    private final SslContext libraryDefault;
    /** Protocol, cipher suite and key-exchange group of the last handshake. */
    final AtomicReference<String> negotiated = new AtomicReference<>("-");

    /** The key-exchange groups the client offers. */
    enum Groups {
        CLASSICAL,
        LIBRARY_DEFAULT
    }

    LoadClient(Transport transport, int threads) throws Exception {
        this.transport = transport;
        this.group = transport.newGroup(threads);
        this.classical = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL)
                .option(OpenSslContextOption.GROUPS, new String[]{"X25519", "P-256"})
                .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        this.libraryDefault = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL)
                .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
    }

    /** Handshakes: connections per second, connect-to-greeting times (ns) and the count. */
    record HandshakeResult(long connections, double seconds, List<Long> greetingNanos) {
    }

    private Bootstrap bootstrap(int port, ChannelInitializer<SocketChannel> handlers) {
        return new Bootstrap().group(group).channel(transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .remoteAddress(new InetSocketAddress("127.0.0.1", port))
                .handler(handlers);
    }

    private SslHandler tls(SocketChannel ch) {
        return tls(ch, Groups.CLASSICAL);
    }

    private SslHandler tls(SocketChannel ch, Groups groups) {
        SslContext context = groups == Groups.CLASSICAL ? classical : libraryDefault;
        SslHandler handler = context.newHandler(ch.alloc(), "127.0.0.1", 0);
        handler.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                negotiated.set(handler.engine().getSession().getProtocol() + " " + handler.engine().getSession()
                        .getCipherSuite() + " " + group(handler));
            }
        });
        return handler;
    }

    private static String group(SslHandler handler) {
        if (handler.engine() instanceof ReferenceCountedOpenSslEngine engine) {
            try {
                return SSL.getGroupName(engine.sslPointer());
            } catch (Exception e) {
                return "group unknown";
            }
        }
        return "group unknown";
    }

    /** New TLS connection, read the greeting, QUIT, close: {@code concurrency} at a time, until the time or count ends. */
    HandshakeResult handshakes(int port, int concurrency, long millis, long maxConnections) throws Exception {
        return handshakes(port, concurrency, millis, maxConnections, Groups.CLASSICAL);
    }

    /** As {@link #handshakes(int, int, long, long)}, offering these key-exchange groups. */
    HandshakeResult handshakes(int port, int concurrency, long millis, long maxConnections, Groups groups)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        AtomicLong started = new AtomicLong();
        AtomicInteger running = new AtomicInteger(concurrency);
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicInteger failures = new AtomicInteger();
        long begin = System.nanoTime();
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            if (System.nanoTime() > deadline || started.incrementAndGet() > maxConnections || failures.get() > 100) {
                if (running.decrementAndGet() == 0) {
                    done.complete(null);
                }
                return;
            }
            ChannelFuture f = bootstrap(port, greetingThenQuit(groups, System.nanoTime(), latencies, failures))
                    .connect();
            f.addListener(c -> {
                if (!c.isSuccess()) {
                    failures.incrementAndGet();
                    next[0].run();
                } else {
                    f.channel().closeFuture().addListener(x -> next[0].run());
                }
            });
        };
        for (int i = 0; i < concurrency; i++) {
            next[0].run();
        }
        done.get(millis + 60_000, TimeUnit.MILLISECONDS);
        if (failures.get() > 100) {
            throw new IllegalStateException("over 100 failed connections");
        }
        return new HandshakeResult(latencies.size(), (System.nanoTime() - begin) / 1e9, new ArrayList<>(latencies));
    }

    /** One TLS session: the greeting's latency from {@code t0} is recorded, then QUIT, then the close. */
    private ChannelInitializer<SocketChannel> greetingThenQuit(Groups groups, long t0, List<Long> latencies,
            AtomicInteger failures) {
        return new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(tls(ch, groups), new LineBasedFrameDecoder(1024),
                        new SimpleChannelInboundHandler<ByteBuf>() {
                            int lines;

                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf line) {
                                if (lines++ == 0) {
                                    latencies.add(System.nanoTime() - t0);
                                    ctx.writeAndFlush(Backends.ascii("QUIT\r\n"));
                                } else {
                                    ctx.close();
                                }
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                failures.incrementAndGet();
                                ctx.close();
                            }
                        });
            }
        };
    }

    /** Bytes moved and seconds taken. */
    record Transfer(long bytes, double seconds) {
        double megabytesPerSecond() {
            return bytes / 1e6 / seconds;
        }
    }

    /** {@code connections} parallel downloads of the bulk source, each until it closes. */
    Transfer download(int port, int connections) throws Exception {
        AtomicLong bytes = new AtomicLong();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        long begin = System.nanoTime();
        for (int i = 0; i < connections; i++) {
            CompletableFuture<Void> finished = new CompletableFuture<>();
            all.add(finished);
            bootstrap(port, new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(tls(ch), new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            bytes.addAndGet(((ByteBuf) msg).readableBytes());
                            ((ByteBuf) msg).release();
                        }

                        @Override
                        public void channelInactive(ChannelHandlerContext ctx) {
                            finished.complete(null);
                        }

                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            finished.completeExceptionally(cause);
                            ctx.close();
                        }
                    });
                }
            }).connect().addListener(f -> {
                if (!f.isSuccess()) {
                    finished.completeExceptionally(f.cause());
                }
            });
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
        return new Transfer(bytes.get(), (System.nanoTime() - begin) / 1e9);
    }

    /** {@code connections} parallel uploads of {@code bytesEach} to the sink, each until it answers DONE. */
    Transfer upload(int port, int connections, long bytesEach) throws Exception {
        // Every write is a slice of one zeroed chunk, released once the uploads are over.
        ByteBuf zeros = Unpooled.directBuffer(64 * 1024).writeZero(64 * 1024);
        try {
            return upload(port, connections, bytesEach, Unpooled.unreleasableBuffer(zeros));
        } finally {
            zeros.release();
        }
    }

    private Transfer upload(int port, int connections, long bytesEach, ByteBuf chunk) throws Exception {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        long begin = System.nanoTime();
        for (int i = 0; i < connections; i++) {
            CompletableFuture<Void> finished = new CompletableFuture<>();
            all.add(finished);
            bootstrap(port, new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(tls(ch), new LineBasedFrameDecoder(64),
                            new SimpleChannelInboundHandler<ByteBuf>() {
                                long sent;

                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    ctx.writeAndFlush(Backends.ascii("SIZE " + bytesEach + "\n"));
                                    more(ctx);
                                }

                                @Override
                                public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                                    more(ctx);
                                }

                                private void more(ChannelHandlerContext ctx) {
                                    while (ctx.channel().isWritable() && sent < bytesEach) {
                                        int n = (int) Math.min(chunk.capacity(), bytesEach - sent);
                                        sent += n;
                                        ctx.write(chunk.retainedSlice(0, n));
                                    }
                                    ctx.flush();
                                }

                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, ByteBuf line) {
                                    finished.complete(null);
                                    ctx.close();
                                }

                                @Override
                                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                    finished.completeExceptionally(cause);
                                    ctx.close();
                                }
                            });
                }
            }).connect();
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
        return new Transfer(bytesEach * connections, (System.nanoTime() - begin) / 1e9);
    }

    /** One session, {@code roundTrips} request/response exchanges with the echo server; nanoseconds each. */
    List<Long> latency(int port, int roundTrips) throws Exception {
        List<Long> out = new ArrayList<>(roundTrips);
        CompletableFuture<Void> finished = new CompletableFuture<>();
        ByteBuf request = Unpooled.unreleasableBuffer(Backends.ascii("0123456789abcdef0123456789abcde\n"));
        bootstrap(port, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(tls(ch), new LineBasedFrameDecoder(128),
                        new SimpleChannelInboundHandler<ByteBuf>() {
                            long t0;

                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                send(ctx);
                            }

                            private void send(ChannelHandlerContext ctx) {
                                t0 = System.nanoTime();
                                ctx.writeAndFlush(request.retainedDuplicate());
                            }

                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf line) {
                                out.add(System.nanoTime() - t0);
                                if (out.size() < roundTrips) {
                                    send(ctx);
                                } else {
                                    finished.complete(null);
                                    ctx.close();
                                }
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                finished.completeExceptionally(cause);
                                ctx.close();
                            }
                        });
            }
        }).connect();
        finished.get(5, TimeUnit.MINUTES);
        return out;
    }

    /** Opens {@code count} TLS sessions to the echo server, each proven to reach the backend, and keeps them open. */
    List<Channel> holdOpen(int port, int count) throws Exception {
        List<Channel> open = Collections.synchronizedList(new ArrayList<>());
        int batch = 100;
        for (int from = 0; from < count; from += batch) {
            List<CompletableFuture<Void>> answered = new ArrayList<>();
            for (int i = from; i < Math.min(count, from + batch); i++) {
                CompletableFuture<Void> pong = new CompletableFuture<>();
                answered.add(pong);
                ChannelFuture f = bootstrap(port, new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(tls(ch), new LineBasedFrameDecoder(64), new Pinger(pong));
                    }
                }).connect();
                f.addListener(c -> {
                    if (c.isSuccess()) {
                        open.add(f.channel());
                    } else {
                        pong.completeExceptionally(c.cause());
                    }
                });
            }
            CompletableFuture.allOf(answered.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
        }
        return open;
    }

    /** Sends "ping" on every held session and waits for each to answer: they are all still alive end to end. */
    void checkAlive(List<Channel> open) throws Exception {
        List<CompletableFuture<Void>> answered = new ArrayList<>();
        for (Channel ch : open) {
            CompletableFuture<Void> pong = new CompletableFuture<>();
            answered.add(pong);
            ch.pipeline().replace(Pinger.class, "pinger", new Pinger(pong));
            ch.writeAndFlush(Backends.ascii("ping\n"));
        }
        CompletableFuture.allOf(answered.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
    }

    /** Sends "ping" when the session is up and completes when it comes back. */
    private static final class Pinger extends SimpleChannelInboundHandler<ByteBuf> {
        private final CompletableFuture<Void> pong;

        Pinger(CompletableFuture<Void> pong) {
            this.pong = pong;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent e && e.isSuccess()) {
                ctx.writeAndFlush(Backends.ascii("ping\n"));
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf line) {
            pong.complete(null);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            pong.completeExceptionally(cause);
            ctx.close();
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
