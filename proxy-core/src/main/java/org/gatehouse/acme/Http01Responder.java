package org.gatehouse.acme;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
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
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.gatehouse.rules.HostPort;
import org.gatehouse.session.Transport;

/**
 * The http-01 listener (RFC 8555 8.3): answers {@code GET /.well-known/acme-challenge/TOKEN} with the key
 * authorization of a challenge in progress, and nothing else: every other request gets a 404, or a 301 to the
 * operator's {@code httpRedirect}. One request per connection, small bounded requests, a read timeout.
 */
final class Http01Responder implements AutoCloseable {

    static final String PREFIX = "/.well-known/acme-challenge/";

    private final EventLoopGroup group;
    private final Channel channel;

    private Http01Responder(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    static Http01Responder start(HostPort listen, Transport transport, ChallengeResponses responses,
            Optional<String> redirect) throws IOException {
        requireNonNull(responses, "responses");
        EventLoopGroup group = transport.newGroup(1);
        try {
            Channel ch = new ServerBootstrap().group(group).channel(transport.serverChannel())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline().addLast(new ReadTimeoutHandler(10, TimeUnit.SECONDS),
                                    new HttpServerCodec(new HttpDecoderConfig().setMaxInitialLineLength(1024)
                                            .setMaxHeaderSize(8192)),
                                    new HttpObjectAggregator(1024),
                                    new Answer(responses, redirect));
                        }
                    })
                    .bind(listen.toSocketAddress()).syncUninterruptibly().channel();
            return new Http01Responder(group, ch);
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw new IOException("cannot listen for http-01 on " + listen + ": " + e.getMessage(), e);
        }
    }

    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private static final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final ChallengeResponses responses;
        private final Optional<String> redirect;

        Answer(ChallengeResponses responses, Optional<String> redirect) {
            this.responses = responses;
            this.redirect = redirect;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String uri = request.uri();
            boolean read = request.method().equals(HttpMethod.GET) || request.method().equals(HttpMethod.HEAD);
            FullHttpResponse response;
            Optional<String> answer = read && request.decoderResult().isSuccess() && uri.startsWith(PREFIX)
                    ? responses.http01(uri.substring(PREFIX.length()))
                    : Optional.empty();
            if (answer.isPresent()) {
                response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        ByteBufUtil.writeAscii(ctx.alloc(), answer.get()));
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
            } else if (redirect.isPresent() && read && !uri.startsWith(PREFIX) && uri.startsWith("/")) {
                response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.MOVED_PERMANENTLY);
                response.headers().set(HttpHeaderNames.LOCATION, stripSlash(redirect.get()) + uri);
            } else {
                response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                        ByteBufUtil.writeAscii(ctx.alloc(), "not found\n"));
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
            }
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }

        private static String stripSlash(String base) {
            return base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a timeout or a broken request: nothing to say to it
        }
    }
}
