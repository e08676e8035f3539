package org.gatehouse.mail;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.gatehouse.session.PipelineNames;

/**
 * Holds a failed login's reply, and everything after it in both directions, for the delay account protection asks: put
 * before the inspector the first time a reply is held, on the event loop's scheduler (never a sleeping thread). While
 * it holds, the client's bytes wait here (at most {@link MailInspector#MAX_HELD_BYTES}, else the connection ends), so a client that
 * pipelines its next guesses gains nothing. When the address is blocked, the connection closes after the reply.
 */
final class Tarpit extends ChannelDuplexHandler {

    private record Write(Object msg, ChannelPromise promise) {
    }

    private final ArrayDeque<Write> writes = new ArrayDeque<>();
    private final ArrayDeque<Object> reads = new ArrayDeque<>();
    private long readBytes;
    private boolean holding;
    private boolean closeAfter;
    private Runnable onRelease = () -> {
    };
    private ScheduledFuture<?> timer;

    /**
     * Holds what goes to the client from now for {@code delayMillis}, then sends it (and closes, if {@code close}).
     *
     * @param inspector the inspector's context: the tarpit goes right before it
     * @param released  run once when the hold ends, however it ends
     */
    static void hold(ChannelHandlerContext inspector, long delayMillis, boolean close, Runnable released) {
        ChannelPipeline p = inspector.pipeline();
        Tarpit tarpit = p.get(Tarpit.class);
        if (tarpit == null) {
            tarpit = new Tarpit();
            p.addBefore(inspector.name(), PipelineNames.TARPIT, tarpit);
        }
        tarpit.start(p.context(tarpit), delayMillis, close, released);
    }

    private void start(ChannelHandlerContext ctx, long delayMillis, boolean close, Runnable released) {
        if (holding) {
            released.run(); // one hold at a time: the longer one already runs
            closeAfter |= close;
            return;
        }
        holding = true;
        closeAfter = close;
        onRelease = released;
        timer = ctx.executor().schedule(() -> release(ctx), delayMillis, TimeUnit.MILLISECONDS);
    }

    private void release(ChannelHandlerContext ctx) {
        if (!holding) {
            return;
        }
        holding = false;
        onRelease.run();
        Write w;
        while ((w = writes.poll()) != null) {
            ctx.write(w.msg(), w.promise());
        }
        if (closeAfter) {
            ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            dropReads();
            return;
        }
        ctx.flush();
        Object msg;
        boolean any = false;
        while ((msg = reads.poll()) != null) {
            any = true;
            ctx.fireChannelRead(msg);
        }
        readBytes = 0;
        if (any) {
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (holding) {
            writes.add(new Write(msg, promise));
        } else {
            ctx.write(msg, promise);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (!holding) {
            ctx.flush();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!holding) {
            ctx.fireChannelRead(msg);
            return;
        }
        readBytes += msg instanceof ByteBuf b ? b.readableBytes() : 0;
        reads.add(msg);
        if (readBytes > MailInspector.MAX_HELD_BYTES) {
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!holding) {
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        if (holding) {
            holding = false;
            onRelease.run();
        }
        Write w;
        while ((w = writes.poll()) != null) {
            ReferenceCountUtil.release(w.msg());
            if (!w.promise().isVoid()) {
                w.promise().tryFailure(new ClosedChannelException());
            }
        }
        dropReads();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        handlerRemoved(ctx);
        ctx.fireChannelInactive();
    }

    private void dropReads() {
        Object msg;
        while ((msg = reads.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
        readBytes = 0;
    }
}
