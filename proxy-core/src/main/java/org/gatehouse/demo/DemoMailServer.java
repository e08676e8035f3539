package org.gatehouse.demo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;

/**
 * An in-memory POP3, IMAP and SMTP server on loopback, plaintext only, with one user ({@value DemoMailbox#USER} /
 * {@value DemoMailbox#PASSWORD}): the legacy server of {@code gatehouse demo}, and the backend of the tests. It also
 * records the command lines it receives (not message contents), so tests can prove what reached the backend. Like a
 * legacy server without a certificate, it advertises STARTTLS (and STLS) but cannot do it: the gateway hides that.
 */
public final class DemoMailServer implements AutoCloseable {

    private static final int MAX_LINE = 64 * 1024;
    private static final int MAX_RECORDED_LINES = 10_000;

    private final DemoMailbox mailbox = new DemoMailbox();
    private final EventLoopGroup group;
    private final List<Channel> channels = new ArrayList<>();
    private final InetSocketAddress pop3;
    private final InetSocketAddress imap;
    private final InetSocketAddress smtp;
    private final AtomicInteger connections = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> received = new ConcurrentLinkedQueue<>();

    private DemoMailServer(Transport transport) throws InterruptedException {
        this.group = transport.newGroup(1);
        try {
            this.pop3 = bind(transport, DemoPop3Handler::new);
            this.imap = bind(transport, DemoImapHandler::new);
            this.smtp = bind(transport, DemoSmtpHandler::new);
        } catch (InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Starts the three servers on free loopback ports. */
    public static DemoMailServer start(Transport transport) throws InterruptedException {
        return new DemoMailServer(transport);
    }

    private InetSocketAddress bind(Transport transport, Function<DemoMailServer, LineHandler> handler)
            throws InterruptedException {
        Channel ch = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        c.pipeline().addLast(new LineBasedFrameDecoder(MAX_LINE), handler.apply(DemoMailServer.this));
                    }
                })
                .bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
        channels.add(ch);
        return (InetSocketAddress) ch.localAddress();
    }

    public InetSocketAddress address(Protocol protocol) {
        return switch (protocol) {
            case POP3 -> pop3;
            case IMAP -> imap;
            case SMTP -> smtp;
            case TCP -> throw new IllegalArgumentException("the demo server speaks pop3, imap and smtp");
        };
    }

    public DemoMailbox mailbox() {
        return mailbox;
    }

    /** Connections accepted so far, all protocols. */
    public int connections() {
        return connections.get();
    }

    /** The command lines received so far, as "protocol: line", oldest first. */
    public List<String> receivedLines() {
        return List.copyOf(received);
    }

    void connected() {
        connections.incrementAndGet();
    }

    void received(String protocol, String line) {
        if (received.size() < MAX_RECORDED_LINES) {
            received.add(protocol + ": " + line);
        }
    }

    @Override
    public void close() {
        for (Channel ch : channels) {
            ch.close().awaitUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
