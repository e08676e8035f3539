package org.gatehouse.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;

/** Shared plumbing of the demo protocol handlers: one line in (CRLF stripped), text lines out. */
abstract class LineHandler extends SimpleChannelInboundHandler<ByteBuf> {

    protected final DemoMailServer server;

    LineHandler(DemoMailServer server) {
        this.server = server;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        server.connected();
        send(ctx, greeting());
    }

    abstract String greeting();

    /** One received line without its line ending. */
    abstract void line(ChannelHandlerContext ctx, ByteBuf line);

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
        line(ctx, msg);
    }

    static String text(ByteBuf line) {
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    void send(ChannelHandlerContext ctx, String text) {
        ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), text + "\r\n"));
    }

    void sendAndClose(ChannelHandlerContext ctx, String text) {
        ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), text + "\r\n")).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            sendAndClose(ctx, tooLong());
        } else {
            ctx.close();
        }
    }

    abstract String tooLong();
}
