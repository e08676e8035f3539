package org.gatehouse.bench.load;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.gatehouse.session.Transport;

/**
 * The plaintext servers every proxy relays to, on loopback: a POP3-like greeter ({@code +OK} greeting, {@code NOOP},
 * {@code QUIT}), a bulk source (writes {@code bulkBytes} then closes), a sink (reads {@code SIZE n}, then n bytes,
 * then answers {@code DONE}), and a line echo.
 */
final class Backends implements AutoCloseable {

    private static final ByteBuf CHUNK = Unpooled.unreleasableBuffer(Unpooled.directBuffer(64 * 1024)
            .writeZero(64 * 1024)).asReadOnly();

    private final EventLoopGroup group;
    final int greeter;
    final int bulk;
    final int sink;
    final int echo;
    private final Channel[] channels = new Channel[4];

    Backends(Transport transport, long bulkBytes) throws InterruptedException {
        group = transport.newGroup(1);
        greeter = bind(0, transport, new GreeterInit());
        bulk = bind(1, transport, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new BulkSource(bulkBytes));
            }
        });
        sink = bind(2, transport, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new Sink());
            }
        });
        echo = bind(3, transport, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ctx.writeAndFlush(msg);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                });
            }
        });
    }

    private int bind(int i, Transport transport, ChannelInitializer<SocketChannel> init) throws InterruptedException {
        channels[i] = new ServerBootstrap().group(group).channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(init).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        return ((InetSocketAddress) channels[i].localAddress()).getPort();
    }

    private static final class GreeterInit extends ChannelInitializer<SocketChannel> {
        @Override
        protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new LineBasedFrameDecoder(1024), new SimpleChannelInboundHandler<ByteBuf>() {
                @Override
                public void channelActive(ChannelHandlerContext ctx) {
                    ctx.writeAndFlush(ascii("+OK bench POP3 ready\r\n"));
                }

                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    ctx.close(); // a proxy that reset the connection (its client gave up at a phase's end)
                }

                @Override
                protected void channelRead0(ChannelHandlerContext ctx, ByteBuf line) {
                    String command = line.toString(StandardCharsets.US_ASCII).trim().toUpperCase(Locale.ROOT);
                    if (command.startsWith("QUIT")) {
                        ctx.writeAndFlush(ascii("+OK bye\r\n")).addListener(ChannelFutureListener.CLOSE);
                    } else {
                        ctx.writeAndFlush(ascii("+OK\r\n"));
                    }
                }
            });
        }
    }

    /** Writes {@code total} bytes as fast as the connection takes them, then closes. */
    private static final class BulkSource extends ChannelInboundHandlerAdapter {
        private final long total;
        private long written;

        BulkSource(long total) {
            this.total = total;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(true);
            writeMore(ctx);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            writeMore(ctx);
        }

        private void writeMore(ChannelHandlerContext ctx) {
            while (ctx.channel().isWritable() && written < total) {
                int n = (int) Math.min(CHUNK.capacity(), total - written);
                written += n;
                ctx.write(CHUNK.retainedSlice(0, n));
            }
            ctx.flush();
            if (written >= total) {
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    /** {@code SIZE n\n}, then n bytes, then {@code DONE\n}. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        private long expected = -1;
        private long received;
        private final StringBuilder header = new StringBuilder();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                while (expected < 0 && buf.isReadable()) {
                    char c = (char) buf.readByte();
                    if (c == '\n') {
                        expected = Long.parseLong(header.toString().trim().substring(5));
                    } else {
                        header.append(c);
                    }
                }
                received += buf.readableBytes();
                if (expected >= 0 && received >= expected) {
                    ctx.writeAndFlush(ascii("DONE\n"));
                    expected = -1;
                    received = 0;
                    header.setLength(0);
                }
            } finally {
                buf.release();
            }
        }
    }

    static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        for (Channel c : channels) {
            if (c != null) {
                c.close();
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
