package org.gatehouse.backend;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.gatehouse.proxy.ProxyHeaders;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.Protocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks one pool's servers on one event loop, each every {@code interval}: connect, and for a mail protocol expect its
 * greeting ({@code +OK}, {@code * OK}/{@code * PREAUTH}, {@code 220}) within {@code timeout}, then say goodbye
 * ({@code QUIT}, {@code LOGOUT}). A server that accepts the connection but never greets is down. {@code fall} failures
 * in a row take a server out of use, {@code rise} successes bring it back; each change is logged. When the rule sends
 * PROXY protocol headers, a check sends a LOCAL one, which such servers accept as "not a proxied client".
 */
final class HealthChecker {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.backend");
    private static final int MAX_GREETING = 4096;

    private final BackendPool pool;
    private final Protocol protocol;
    private final Backend.HealthCheck check;
    private final EventLoop loop;
    private final Class<? extends SocketChannel> channelClass;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final Map<ServerState, int[]> streaks = new HashMap<>(); // [successes, failures], loop-confined
    private final List<ScheduledFuture<?>> scheduled = new ArrayList<>();

    HealthChecker(BackendPool pool, Protocol protocol, EventLoop loop, Class<? extends SocketChannel> channelClass,
            AddressResolverGroup<InetSocketAddress> resolver) {
        this.pool = pool;
        this.protocol = protocol;
        this.check = pool.settings().healthCheck().orElseThrow();
        this.loop = loop;
        this.channelClass = channelClass;
        this.resolver = resolver;
    }

    void start() {
        long interval = check.interval().toMillis();
        for (ServerState server : pool.servers()) {
            streaks.put(server, new int[2]);
            // Spread the first checks over a tenth of the interval, so that servers are not all checked at once.
            long first = ThreadLocalRandom.current().nextLong(Math.max(1, interval / 10));
            scheduled.add(loop.scheduleWithFixedDelay(() -> check(server), first, interval, TimeUnit.MILLISECONDS));
        }
    }

    void stop() {
        scheduled.forEach(f -> f.cancel(false));
    }

    /** A failure seen outside the checks (a client's connection that got no greeting): counted as a failed check. */
    void failedElsewhere(ServerState server, String why) {
        loop.execute(() -> {
            if (streaks.containsKey(server)) {
                record(server, why);
            }
        });
    }

    private void check(ServerState server) {
        Attempt attempt = new Attempt(server);
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .resolver(resolver)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) check.timeout().toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (protocol.isMail()) {
                            ch.pipeline().addLast(new LineBasedFrameDecoder(MAX_GREETING), new GreetingCheck(attempt));
                        }
                    }
                });
        attempt.timeout = loop.schedule(() -> attempt.done("no greeting within " + check.timeout().toMillis() + " ms"),
                check.timeout().toMillis(), TimeUnit.MILLISECONDS);
        ChannelFuture connecting = bootstrap.connect(server.address().toSocketAddress());
        attempt.channel = connecting.channel();
        connecting.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                attempt.done("connect failed: " + f.cause().getMessage());
                return;
            }
            if (pool.settings().sendProxyProtocol() != Backend.ProxyProtocol.OFF) {
                ProxyHeaders.sendLocal(f.channel(), pool.settings().sendProxyProtocol());
            }
            if (!protocol.isMail()) {
                attempt.done(null);
            }
        });
    }

    /** One check of one server; {@link #done} once with null (healthy) or why not. */
    private final class Attempt {
        final ServerState server;
        Channel channel;
        ScheduledFuture<?> timeout;
        boolean finished;

        Attempt(ServerState server) {
            this.server = server;
        }

        void done(String failure) {
            if (finished) {
                return;
            }
            finished = true;
            if (timeout != null) {
                timeout.cancel(false);
            }
            if (channel != null && channel.isOpen() && (failure != null || !protocol.isMail())) {
                channel.close();
            }
            record(server, failure);
        }
    }

    private final class GreetingCheck extends SimpleChannelInboundHandler<ByteBuf> {
        private final Attempt attempt;

        GreetingCheck(Attempt attempt) {
            this.attempt = attempt;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf line) {
            String greeting = line.toString(StandardCharsets.US_ASCII);
            if (isGreeting(greeting)) {
                ctx.writeAndFlush(ctx.alloc().buffer().writeBytes(goodbye().getBytes(StandardCharsets.US_ASCII)))
                        .addListener(ChannelFutureListener.CLOSE);
                attempt.done(null);
            } else {
                attempt.done("unexpected greeting \"" + printable(greeting) + '"');
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            attempt.done("closed before greeting");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            attempt.done(cause.getClass().getSimpleName() + ": " + cause.getMessage());
        }
    }

    private boolean isGreeting(String line) {
        return switch (protocol) {
            case POP3 -> line.startsWith("+OK");
            case IMAP -> line.startsWith("* OK") || line.startsWith("* PREAUTH");
            case SMTP -> line.startsWith("220");
            case TCP -> true;
        };
    }

    private String goodbye() {
        return protocol == Protocol.IMAP ? "gh1 LOGOUT\r\n" : "QUIT\r\n";
    }

    private static String printable(String s) {
        String cut = s.length() > 60 ? s.substring(0, 60) : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /** Counts a result into the server's streak and moves it in or out of use when {@code rise}/{@code fall} is met. */
    private void record(ServerState server, String failure) {
        server.checked(Instant.now(), failure);
        int[] streak = streaks.get(server);
        if (failure == null) {
            streak[0]++;
            streak[1] = 0;
            if (!server.up() && streak[0] >= check.rise()) {
                server.up(true);
                log.info("backend up rule={} backend={} ({} good checks)", pool.rule(), server.address(), streak[0]);
            }
        } else {
            streak[1]++;
            streak[0] = 0;
            log.debug("backend check failed rule={} backend={}: {}", pool.rule(), server.address(), failure);
            if (server.up() && streak[1] >= check.fall()) {
                server.up(false);
                log.warn("backend down rule={} backend={} ({} failed checks, last: {})", pool.rule(), server.address(),
                        streak[1], failure);
            }
        }
    }
}
