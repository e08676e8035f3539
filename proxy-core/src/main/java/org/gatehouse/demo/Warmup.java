package org.gatehouse.demo;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLException;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.gateway.Gateway;
import org.gatehouse.gateway.GatewayException;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.load.RulesLoader;
import org.gatehouse.session.Transport;
import org.gatehouse.tls.TlsContexts;
import org.gatehouse.tls.TlsEngine;
import org.slf4j.LoggerFactory;

/**
 * Warms the JIT up before the gateway serves anyone: POP3 sessions over implicit TLS (handshake, greeting, USER, PASS,
 * STAT, QUIT) through a private gateway on a free loopback port, relaying to the in-memory demo server, with metrics
 * of its own and the gateway's log quiet meanwhile. The code a real session runs is then compiled, so the first
 * clients after a start do not pay for the JIT; the same sessions are the training run of the class-data sharing
 * archive ({@code gatehouse warmup}, see docs/adr/0006-the-first-minute.md).
 */
public final class Warmup {

    private static final org.slf4j.Logger log = LoggerFactory.getLogger(Warmup.class);

    /** At most this many sessions, however many are asked for. */
    public static final int MAX_SESSIONS = 10_000;
    private static final int CONCURRENCY = 4;
    private static final long SESSION_TIMEOUT_SECONDS = 10;

    /** What a warm-up did: sessions that completed, those that failed, and how long it took. */
    public record Result(int completed, int failed, long millis) {
    }

    private Warmup() {
    }

    /** Runs {@code sessions} sessions (bounded by {@link #MAX_SESSIONS}); never throws for a failed session. */
    public static Result run(int sessions, Transport transport) throws InterruptedException {
        int wanted = Math.max(0, Math.min(sessions, MAX_SESSIONS));
        long start = System.nanoTime();
        if (wanted == 0) {
            return new Result(0, 0, 0);
        }
        Path dir = null;
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level level = root.getLevel();
        try (DemoMailServer backend = DemoMailServer.start(transport)) {
            dir = Files.createTempDirectory("gatehouse-warmup");
            // The private gateway's certificate, listening, access and connection lines are not the operator's.
            root.setLevel(Level.WARN);
            // Built here rather than by RulesSnapshot.load, which would switch the log to this file's format.
            PublishingRules file = RulesLoader.load(writeRules(dir, backend.address(Protocol.POP3)));
            RulesSnapshot rules = new RulesSnapshot(file, TlsContexts.build(file, TlsEngine.detect(),
                    TlsContexts.Mode.RUN));
            Gateway gateway = Gateway.start(rules, new GatewayMetrics(new SimpleMeterRegistry()), transport);
            try {
                int[] counts = sessions(gateway.address("warmup"), transport, wanted);
                return new Result(counts[0], counts[1], TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            } finally {
                gateway.close();
            }
        } catch (IOException | RulesException | GatewayException e) {
            log.warn("warm-up skipped: {}", e.toString());
            return new Result(0, wanted, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        } finally {
            root.setLevel(level);
            deleteQuietly(dir);
        }
    }

    private static Path writeRules(Path dir, InetSocketAddress backend) throws IOException {
        return Files.writeString(dir.resolve("warmup.yaml"), """
                stateDir: %s
                admin: { enabled: false }
                certificates:
                  warmup: { selfSigned: ["127.0.0.1"] }
                # its sessions log in at once as one user from one new address: account protection would refuse
                # those beyond lockoutThreshold - 2 in flight; exempt, they still run its code
                protection: { exempt: ["127.0.0.1"] }
                rules:
                  - name: warmup
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    certificate: warmup
                    backend: ["127.0.0.1:%d"]
                """.formatted(dir.resolve("state"), backend.getPort()));
    }

    /** {@code wanted} sessions, {@value #CONCURRENCY} at a time; returns {completed, failed}. */
    private static int[] sessions(InetSocketAddress gateway, Transport transport, int wanted)
            throws SSLException, InterruptedException {
        SslContext tls = SslContextBuilder.forClient()
                .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        EventLoopGroup group = transport.newGroup(1);
        int completed = 0;
        int failed = 0;
        try {
            for (int done = 0; done < wanted; done += CONCURRENCY) {
                int batch = Math.min(CONCURRENCY, wanted - done);
                CompletableFuture<?>[] running = new CompletableFuture<?>[batch];
                for (int i = 0; i < batch; i++) {
                    running[i] = session(gateway, transport, group, tls);
                }
                for (CompletableFuture<?> s : running) {
                    try {
                        s.get(SESSION_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                        completed++;
                    } catch (Exception e) {
                        failed++;
                    }
                }
                if (failed > 10 && completed == 0) {
                    break; // something is wrong with this machine's loopback: do not insist
                }
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
        return new int[]{completed, failed};
    }

    private static CompletableFuture<Void> session(InetSocketAddress gateway, Transport transport,
            EventLoopGroup group, SslContext tls) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        new Bootstrap().group(group).channel(transport.socketChannel())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(tls.newHandler(ch.alloc(), "127.0.0.1", gateway.getPort()),
                                new LineBasedFrameDecoder(4096), new StringDecoder(StandardCharsets.US_ASCII),
                                new StringEncoder(StandardCharsets.US_ASCII), new Pop3Dialogue(done));
                    }
                })
                .connect(gateway).addListener(f -> {
                    if (!f.isSuccess()) {
                        done.completeExceptionally(f.cause());
                    }
                });
        return done;
    }

    /** Greeting, USER, PASS, STAT, QUIT: each command after the previous answer, as a client without pipelining. */
    private static final class Pop3Dialogue extends SimpleChannelInboundHandler<String> {

        private static final String[] COMMANDS = {"USER " + DemoMailbox.USER, "PASS " + DemoMailbox.PASSWORD,
                "STAT", "QUIT"};
        private final CompletableFuture<Void> done;
        private int next;

        Pop3Dialogue(CompletableFuture<Void> done) {
            this.done = done;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, String line) {
            if (!line.startsWith("+OK")) {
                fail(ctx.channel(), new IOException("unexpected answer"));
            } else if (next < COMMANDS.length) {
                ctx.writeAndFlush(COMMANDS[next++] + "\r\n");
            } else {
                done.complete(null);
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail(ctx.channel(), new IOException("closed before QUIT was answered"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx.channel(), cause);
        }

        private void fail(Channel ch, Throwable cause) {
            done.completeExceptionally(cause);
            ch.close();
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            log.debug("warm-up folder {} left behind: {}", dir, e.toString());
        }
    }
}
