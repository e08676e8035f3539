package org.gatehouse.admin;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
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
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.gatehouse.gateway.Transport;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.HostPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoint, a small HTTP/1.1 server on its own event loop so that a slow scraper never competes with relayed
 * mail:
 *
 * <ul>
 *   <li>{@code GET /metrics}: every meter, in OpenMetrics when the {@code Accept} header asks for it, else in the
 *       Prometheus text format 0.0.4;</li>
 *   <li>{@code GET /healthz}: 200 while the process runs;</li>
 *   <li>{@code GET /readyz}: 200 when the rules are loaded and every enabled listener is bound, else 503 and why;</li>
 *   <li>{@code POST /-/reload}: reloads the rules file; 200, or 422 with every problem when the file is refused.
 *       Only from a loopback client (403 otherwise), whatever address the endpoint listens on.</li>
 * </ul>
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_REQUEST_BYTES = 8192;
    private static final int READ_TIMEOUT_SECONDS = 30;

    /** What the endpoints report and do. */
    public interface Endpoints {
        /** The meters in the format {@code accept} asks for, if the registry can produce them. */
        Optional<GatewayMetrics.Scrape> scrape(String accept);

        /** Why the gateway is not ready, or empty when it is. */
        Optional<String> notReady();

        /** Reloads the rules; the answer says whether it worked and, if not, every problem. */
        CompletableFuture<Reload> reload();
    }

    /** A reload's result as the endpoint reports it. */
    public record Reload(boolean success, String summary, List<String> problems) {
    }

    private final EventLoopGroup group;
    private final Channel channel;

    private AdminServer(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    /** Binds {@code listen}; fails when it cannot be bound. */
    public static AdminServer start(HostPort listen, Transport transport, Endpoints endpoints) throws java.io.IOException {
        requireNonNull(endpoints, "endpoints");
        EventLoopGroup group = transport.newGroup(1);
        ChannelFuture bound = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(READ_TIMEOUT_SECONDS, TimeUnit.SECONDS),
                                new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES), new Handler(endpoints));
                    }
                })
                .bind(listen.toSocketAddress()).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new java.io.IOException("admin endpoint cannot listen on " + listen + " ("
                    + bound.cause().getMessage() + ")", bound.cause());
        }
        AdminServer server = new AdminServer(group, bound.channel());
        log.info("admin endpoint listening address={} paths=/metrics,/healthz,/readyz,/-/reload", server.address());
        return server;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Endpoints endpoints;

        Handler(Endpoints endpoints) {
            this.endpoints = endpoints;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = new QueryStringDecoder(request.uri()).path();
            HttpMethod method = request.method();
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            switch (path) {
                case "/metrics" -> {
                    if (!isRead(method)) {
                        notAllowed(ctx, "GET, HEAD", keepAlive);
                        return;
                    }
                    Optional<GatewayMetrics.Scrape> scrape = endpoints.scrape(request.headers().get(HttpHeaderNames.ACCEPT));
                    if (scrape.isEmpty()) {
                        text(ctx, HttpResponseStatus.NOT_FOUND, "metrics are not kept in a Prometheus registry\n", keepAlive);
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
                case "/-/reload" -> reload(ctx, method, keepAlive);
                default -> text(ctx, HttpResponseStatus.NOT_FOUND, "not found; try /metrics, /healthz, /readyz or "
                        + "POST /-/reload\n", keepAlive);
            }
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

        private static boolean isRead(HttpMethod method) {
            return method == HttpMethod.GET || method == HttpMethod.HEAD;
        }

        private static void notAllowed(ChannelHandlerContext ctx, String allow, boolean keepAlive) {
            FullHttpResponse response = response(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
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

        private static FullHttpResponse response(ChannelHandlerContext ctx, HttpResponseStatus status, String contentType,
                String body, boolean headOnly) {
            ByteBuf content = ByteBufUtil.encodeString(ctx.alloc(), java.nio.CharBuffer.wrap(body), StandardCharsets.UTF_8);
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
            HttpUtil.setKeepAlive(response, keepAlive);
            ChannelFuture f = ctx.writeAndFlush(response);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("admin connection {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
