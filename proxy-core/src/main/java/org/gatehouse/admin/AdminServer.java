package org.gatehouse.admin;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.timeout.WriteTimeoutException;
import io.netty.handler.timeout.WriteTimeoutHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.gatehouse.gateway.Reloader;
import org.gatehouse.log.RateLimitedLog;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.rules.HostPort;
import org.gatehouse.session.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoint, a small HTTP/1.1 server on its own event loop and its own (unpooled) memory, so that neither a
 * slow scraper nor a hostile client competes with relayed mail:
 *
 * <ul>
 *   <li>{@code GET /metrics}: every meter, in OpenMetrics when the {@code Accept} header asks for it, else in the
 *       Prometheus text format 0.0.4;</li>
 *   <li>{@code GET /healthz}: 200 while the process runs;</li>
 *   <li>{@code GET /readyz}: 200 when the rules are loaded and every enabled listener is bound, else 503 and why;</li>
 *   <li>{@code GET /blocks}, {@code POST /-/unblock}: account protection's blocks ({@link BlocksEndpoint}), from
 *       loopback only and never on a read-only listener;</li>
 *   <li>{@code POST /-/reload}: reloads the rules file; 200, or 422 with every problem when the file is refused.
 *       Only from a loopback client (403 otherwise), whatever address the endpoint listens on, and never on a
 *       read-only listener ({@code admin.readOnlyListen}), which serves the three others only.</li>
 * </ul>
 *
 * <p>Bounded whatever clients do ({@link Limits}): at most {@code maxConnections} connections per listener (the next get
 * 503 and a close); a request line over {@code maxInitialLine} bytes gets 414, headers over {@code maxHeaderSize} 431,
 * a malformed request 400, a body over {@code maxBody} 413; the request head must arrive within
 * {@code requestDeadline} of the connection's start or of the previous answer, however the bytes trickle (else 408);
 * requests are read one at a time, the next only once the previous answer has been written to the socket, so a client
 * that pipelines without reading holds one answer, not thousands; an answer not taken within {@code writeTimeout}
 * closes the connection. Meters: {@code gatehouse.admin.connections.active} and {@code gatehouse.admin.rejected} by
 * {@code listener} and {@code reason}.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final RateLimitedLog REJECTED = new RateLimitedLog(LoggerFactory.getLogger("gatehouse.admin"));

    /**
     * The admin endpoint's own allocator: unpooled, heap-preferring, so that its buffers are freed as soon as an answer
     * is written and never hold (or fragment) the relay's pooled direct memory.
     */
    private static final ByteBufAllocator ALLOCATOR = new UnpooledByteBufAllocator(false);

    /** What the endpoints report and do. */
    public interface Endpoints {
        /** The meters in the format {@code accept} asks for, if the registry can produce them. */
        Optional<GatewayMetrics.Scrape> scrape(String accept);

        /** Why the gateway is not ready, or empty when it is. */
        Optional<String> notReady();

        /** Reloads the rules; the answer says whether it worked and, if not, every problem. */
        CompletableFuture<Reloader.Outcome> reload();

        /** Account protection's blocks, for {@code /blocks} and {@code /-/unblock}; null when it is not running. */
        default AccountGuard accounts() {
            return null;
        }

        /** The status page ({@link StatusPage}), or empty where there is none. */
        default Optional<String> statusPage() {
            return Optional.empty();
        }
    }

    /**
     * The bounds of one admin listener.
     *
     * @param maxConnections  connections open at once; the next get 503 and a close
     * @param maxInitialLine  the request line (method, URI, version), in bytes; over it: 414
     * @param maxHeaderSize   all header lines together, in bytes; over it: 431
     * @param maxBody         a request body, in bytes; over it: 413
     * @param requestDeadline how long a request head may take to arrive, from the connection's start or the previous
     *                        answer; not extended by bytes that trickle in: 408 and a close
     * @param writeTimeout    how long an answer may take to be written to a client that does not read; then a close
     */
    public record Limits(int maxConnections, int maxInitialLine, int maxHeaderSize, int maxBody,
            Duration requestDeadline,
            Duration writeTimeout) {
        public static final Limits DEFAULT = new Limits(32, 4096, 8192, 8192, Duration.ofSeconds(10),
                Duration.ofSeconds(30));
    }

    private final EventLoopGroup group;
    private final Channel channel;

    private AdminServer(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    /** Binds {@code listen} serving every endpoint, with the default limits; fails when it cannot be bound. */
    public static AdminServer start(HostPort listen, Transport transport, Endpoints endpoints)
            throws IOException {
        return start(listen, transport, endpoints, false, Limits.DEFAULT, new SimpleMeterRegistry());
    }

    /**
     * Binds {@code listen}; fails when it cannot be bound.
     *
     * @param readOnly serve {@code /metrics}, {@code /healthz} and {@code /readyz} only (never reload)
     */
    public static AdminServer start(HostPort listen, Transport transport, Endpoints endpoints, boolean readOnly,
            Limits limits, MeterRegistry registry) throws IOException {
        requireNonNull(endpoints, "endpoints");
        requireNonNull(limits, "limits");
        String name = readOnly ? "read-only" : "admin";
        AtomicInteger active = new AtomicInteger();
        Gauge.builder("gatehouse.admin.connections.active", active, AtomicInteger::get)
                .description("Connections open to the admin endpoint").tag("listener", name).register(registry);
        Rejections rejections = new Rejections(name, registry);
        EventLoopGroup group = transport.newGroup(1);
        ChannelFuture bound = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.ALLOCATOR, ALLOCATOR)
                .childOption(ChannelOption.AUTO_READ, false) // one request at a time: see RequestPacing
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (active.incrementAndGet() > limits.maxConnections()) {
                            active.decrementAndGet();
                            rejections.count("max-connections");
                            ch.writeAndFlush(Unpooled.wrappedBuffer(TOO_MANY_CONNECTIONS))
                                    .addListener(ChannelFutureListener.CLOSE);
                            return;
                        }
                        ch.closeFuture().addListener(f -> active.decrementAndGet());
                        ch.pipeline().addLast(
                                new WriteTimeoutHandler(limits.writeTimeout().toMillis(), TimeUnit.MILLISECONDS),
                                new HttpServerCodec(new HttpDecoderConfig()
                                        .setMaxInitialLineLength(limits.maxInitialLine())
                                        .setMaxHeaderSize(limits.maxHeaderSize())),
                                new HttpServerKeepAliveHandler(),
                                new FlowControlHandler(),
                                new HttpObjectAggregator(limits.maxBody()) {
                                    @Override
                                    protected void handleOversizedMessage(ChannelHandlerContext ctx,
                                            HttpMessage oversized) throws Exception {
                                        rejections.count("body-too-large"); // answered 413 and closed by Netty
                                        super.handleOversizedMessage(ctx, oversized);
                                    }
                                },
                                new RequestPacing(limits.requestDeadline().toMillis(), rejections),
                                new Handler(endpoints, readOnly, rejections));
                    }
                })
                .bind(listen.toSocketAddress()).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException(
                    (readOnly ? "read-only admin listener" : "admin endpoint") + " cannot listen on "
                            + listen + " (" + bound.cause().getMessage() + ")",
                    bound.cause());
        }
        AdminServer server = new AdminServer(group, bound.channel());
        log.info("admin endpoint listening address={} paths={}", server.address(),
                readOnly ? "/metrics,/healthz,/readyz (read-only)" : "/,/metrics,/healthz,/readyz,/-/reload");
        return server;
    }

    /** Sent, raw, to a connection over the cap: nothing of it is read. */
    private static final byte[] TOO_MANY_CONNECTIONS = ("HTTP/1.1 503 Service Unavailable\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 27\r\nConnection: close\r\n"
            + "Cache-Control: no-store\r\n\r\ntoo many admin connections\n").getBytes(StandardCharsets.US_ASCII);

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /** Requests turned away, by reason: counted, and logged once per interval. */
    static final class Rejections {
        private final String listener;
        private final MeterRegistry registry;
        private final Map<String, Counter> counters = new ConcurrentHashMap<>();

        Rejections(String listener, MeterRegistry registry) {
            this.listener = listener;
            this.registry = registry;
        }

        /** Without meters (tests of the handler alone). */
        Rejections() {
            this("admin", new SimpleMeterRegistry());
        }

        void count(String reason) {
            counters.computeIfAbsent(reason, r -> Counter.builder("gatehouse.admin.rejected")
                    .description("Admin connections and requests turned away, by reason")
                    .tags("listener", listener, "reason", r).register(registry)).increment();
            REJECTED.warn(listener + "/" + reason, () -> "admin requests turned away listener=" + listener + " reason="
                    + reason);
        }
    }

    static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Endpoints endpoints;
        private final boolean readOnly;
        private final Rejections rejections;

        Handler(Endpoints endpoints) {
            this(endpoints, false, new Rejections());
        }

        Handler(Endpoints endpoints, boolean readOnly, Rejections rejections) {
            this.endpoints = endpoints;
            this.readOnly = readOnly;
            this.rejections = rejections;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (request.decoderResult().isFailure()) {
                refuse(ctx, request.decoderResult().cause());
                return;
            }
            String path = new QueryStringDecoder(request.uri()).path();
            HttpMethod method = request.method();
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            switch (path) {
                case "/metrics" -> {
                    if (!isRead(method)) {
                        notAllowed(ctx, "GET, HEAD", keepAlive);
                        return;
                    }
                    Optional<GatewayMetrics.Scrape> scrape = endpoints
                            .scrape(request.headers().get(HttpHeaderNames.ACCEPT));
                    if (scrape.isEmpty()) {
                        text(ctx, HttpResponseStatus.NOT_FOUND, "metrics are not kept in a Prometheus registry\n",
                                keepAlive);
                    } else {
                        send(ctx, HttpResponseStatus.OK, scrape.get().contentType(), scrape.get().body(),
                                method == HttpMethod.HEAD, keepAlive);
                    }
                }
                case "/healthz" -> {
                    if (isRead(method)) {
                        text(ctx, HttpResponseStatus.OK, "ok\n", keepAlive);
                    } else {
                        notAllowed(ctx, "GET, HEAD", keepAlive);
                    }
                }
                case "/readyz" -> {
                    if (!isRead(method)) {
                        notAllowed(ctx, "GET, HEAD", keepAlive);
                        return;
                    }
                    Optional<String> why = endpoints.notReady();
                    text(ctx, why.isEmpty() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                            why.map(w -> "not ready: " + w + "\n").orElse("ready\n"), keepAlive);
                }
                case "/-/reload" -> {
                    if (readOnly) {
                        text(ctx, HttpResponseStatus.NOT_FOUND,
                                "not found: this listener serves /metrics, /healthz and "
                                        + "/readyz only; POST /-/reload is on admin.listen\n",
                                keepAlive);
                    } else {
                        reload(ctx, method, keepAlive);
                    }
                }
                case "/blocks", "/-/unblock" -> blocks(ctx, request, keepAlive);
                case "/" -> statusPage(ctx, method, keepAlive);
                default -> text(ctx, HttpResponseStatus.NOT_FOUND, readOnly
                        ? "not found; try /metrics, /healthz or "
                                + "/readyz\n"
                        : "not found; try /, /metrics, /healthz, /readyz or POST /-/reload\n", keepAlive);
            }
        }

        /** The status page: on admin.listen only (it names clients), never on the read-only listener. */
        private void statusPage(ChannelHandlerContext ctx, HttpMethod method, boolean keepAlive) {
            Optional<String> page = readOnly ? Optional.empty() : endpoints.statusPage();
            if (page.isEmpty()) {
                text(ctx, HttpResponseStatus.NOT_FOUND, "not found; try /metrics, /healthz or /readyz\n", keepAlive);
            } else if (!isRead(method)) {
                notAllowed(ctx, "GET, HEAD", keepAlive);
            } else {
                FullHttpResponse response = response(ctx, HttpResponseStatus.OK, "text/html; charset=utf-8", page.get(),
                        method == HttpMethod.HEAD);
                response.headers().set("Content-Security-Policy", StatusPage.CONTENT_SECURITY_POLICY)
                        .set("X-Content-Type-Options", "nosniff").set("Referrer-Policy", "no-referrer");
                write(ctx, response, keepAlive);
            }
        }

        private void blocks(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive) {
            BlocksEndpoint.Answer answer = BlocksEndpoint.answer(endpoints.accounts(), request.method(), request.uri(),
                    ctx.channel().remoteAddress(), readOnly);
            text(ctx, answer.status(), answer.body(), keepAlive);
        }

        private void reload(ChannelHandlerContext ctx, HttpMethod method, boolean keepAlive) {
            if (method != HttpMethod.POST) {
                notAllowed(ctx, "POST", keepAlive);
                return;
            }
            SocketAddress client = ctx.channel().remoteAddress();
            if (!(client instanceof InetSocketAddress inet && inet.getAddress().isLoopbackAddress())) {
                log.warn("reload refused to client={}: POST /-/reload is accepted from loopback only", client);
                text(ctx, HttpResponseStatus.FORBIDDEN, "reload is accepted from loopback only\n", keepAlive);
                return;
            }
            endpoints.reload().whenComplete((result, error) -> ctx.executor().execute(() -> {
                if (error != null) {
                    text(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "reload failed: " + error + "\n", keepAlive);
                } else if (result.success()) {
                    text(ctx, HttpResponseStatus.OK, "reloaded: " + result.summary() + "\n", keepAlive);
                } else {
                    StringBuilder body = new StringBuilder("reload refused, still serving the rules loaded before: ")
                            .append(result.summary()).append('\n');
                    result.problems().forEach(p -> body.append(p).append('\n'));
                    text(ctx, HttpResponseStatus.UNPROCESSABLE_ENTITY, body.toString(), keepAlive);
                }
            }));
        }

        /** 414 with RFC 9110's reason phrase (Netty's is RFC 2616's "Request-URI Too Long"). */
        private static final HttpResponseStatus URI_TOO_LONG = new HttpResponseStatus(414, "URI Too Long");

        /** A request the decoder refused: 414 (request line), 431 (headers), 413 (body) or 400, then a close. */
        private void refuse(ChannelHandlerContext ctx, Throwable cause) {
            HttpResponseStatus status;
            String reason;
            if (cause instanceof TooLongHttpLineException) {
                status = URI_TOO_LONG;
                reason = "uri-too-long";
            } else if (cause instanceof TooLongHttpHeaderException) {
                status = HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
                reason = "headers-too-large";
            } else if (cause instanceof TooLongHttpContentException) {
                status = HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
                reason = "body-too-large";
            } else {
                status = HttpResponseStatus.BAD_REQUEST;
                reason = "bad-request";
            }
            rejections.count(reason);
            text(ctx, status, status.reasonPhrase().toLowerCase(Locale.ROOT) + "\n", false);
        }

        private static boolean isRead(HttpMethod method) {
            return method == HttpMethod.GET || method == HttpMethod.HEAD;
        }

        private static void notAllowed(ChannelHandlerContext ctx, String allow, boolean keepAlive) {
            FullHttpResponse response = response(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED,
                    "text/plain; charset=utf-8",
                    "method not allowed\n", false);
            response.headers().set(HttpHeaderNames.ALLOW, allow);
            write(ctx, response, keepAlive);
        }

        private static void text(ChannelHandlerContext ctx, HttpResponseStatus status, String body, boolean keepAlive) {
            send(ctx, status, "text/plain; charset=utf-8", body, false, keepAlive);
        }

        private static void send(ChannelHandlerContext ctx, HttpResponseStatus status, String contentType, String body,
                boolean headOnly, boolean keepAlive) {
            write(ctx, response(ctx, status, contentType, body, headOnly), keepAlive);
        }

        private static FullHttpResponse response(ChannelHandlerContext ctx, HttpResponseStatus status,
                String contentType,
                String body, boolean headOnly) {
            ByteBuf content = ByteBufUtil.encodeString(ctx.alloc(), CharBuffer.wrap(body),
                    StandardCharsets.UTF_8);
            int length = content.readableBytes();
            if (headOnly) {
                content.release();
                content = ctx.alloc().buffer(0);
            }
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, length)
                    .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            return response;
        }

        private static void write(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
            HttpUtil.setKeepAlive(response, keepAlive); // without keep-alive, HttpServerKeepAliveHandler closes after it
            ctx.writeAndFlush(response);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof WriteTimeoutException) {
                rejections.count("write-timeout");
            }
            log.debug("admin connection {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
