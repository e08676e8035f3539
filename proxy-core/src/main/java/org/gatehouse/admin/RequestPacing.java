package org.gatehouse.admin;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One request at a time on an admin connection (whose auto-read is off): the next is read only once the answer to the
 * previous has been written to the socket, so a client that pipelines without reading holds one answer in memory, and
 * the socket's own buffers push back on it. Each request head has a deadline, from the connection's start or from the
 * previous answer, which bytes trickling in do not extend (unlike a read timeout): past it, 408 and a close.
 */
final class RequestPacing extends ChannelDuplexHandler {

    private final long deadlineMillis;
    private final AdminServer.Rejections rejections;
    private ScheduledFuture<?> deadline;
    private boolean answering;

    RequestPacing(long deadlineMillis, AdminServer.Rejections rejections) {
        this.deadlineMillis = deadlineMillis;
        this.rejections = rejections;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        awaitRequest(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest) {
            cancelDeadline();
            answering = true;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // A read cycle that brought no whole request (a head in pieces, or nothing after the last): ask for more. Any
        // read asked for before this point counts as done once the cycle completes.
        if (!answering) {
            ctx.read();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof LastHttpContent) || !answering) {
            ctx.write(msg, promise);
            return;
        }
        ChannelPromise written = promise.unvoid();
        written.addListener(f -> {
            if (f.isSuccess() && ctx.channel().isActive()) {
                answering = false;
                awaitRequest(ctx);
            }
        });
        ctx.write(msg, written);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelDeadline();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelDeadline();
    }

    private void awaitRequest(ChannelHandlerContext ctx) {
        deadline = ctx.executor().schedule(() -> tooSlow(ctx), deadlineMillis, TimeUnit.MILLISECONDS);
        ctx.read();
    }

    private void cancelDeadline() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    private void tooSlow(ChannelHandlerContext ctx) {
        deadline = null;
        if (answering || !ctx.channel().isActive()) {
            return;
        }
        rejections.count("request-timeout");
        answering = true; // nothing more is read
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.REQUEST_TIMEOUT,
                ctx.alloc().buffer(0));
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
