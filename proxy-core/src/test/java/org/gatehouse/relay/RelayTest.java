package org.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.resolver.DefaultAddressResolverGroup;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.gatehouse.backend.BackendPool;
import org.gatehouse.backend.BackendPools;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.load.RulesLoader;
import org.gatehouse.session.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The relay between two channels, and what the backend connector holds before the backend is there. */
class RelayTest {

    private final GatewayMetrics metrics = new GatewayMetrics(new SimpleMeterRegistry());
    private EmbeddedChannel client;
    private EmbeddedChannel backend;
    private Session session;

    @AfterEach
    void close() {
        if (client != null) {
            client.finishAndReleaseAll();
        }
        if (backend != null) {
            backend.finishAndReleaseAll();
        }
    }

    private static Rule rule(String tls) throws Exception {
        PublishingRules rules = RulesLoader.parse("""
                certificates:
                  test: { selfSigned: [localhost] }
                rules:
                  - name: r
                    listen: ["127.0.0.1:0"]
                    protocol: tcp
                    tls: %s
                %s    backend: ["127.0.0.1:9"]
                """.formatted(tls, tls.equals("none") ? "" : "    certificate: test\n"), Path.of("rules.yaml"));
        return rules.rules().get(0);
    }

    /** Two channels relaying to each other, as the backend connector leaves them. */
    private void relay() throws Exception {
        session = new Session(rule("none"), new InetSocketAddress("192.0.2.1", 40000), metrics.rule("r"));
        client = new EmbeddedChannel();
        backend = new EmbeddedChannel();
        client.pipeline().addLast(new RelayHandler(backend, session, true));
        backend.pipeline().addLast(new RelayHandler(client, session, false));
    }

    private static ByteBuf bytes(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1);
    }

    private static String drain(EmbeddedChannel ch) {
        StringBuilder out = new StringBuilder();
        for (Object msg; (msg = ch.readOutbound()) != null;) {
            out.append(((ByteBuf) msg).toString(StandardCharsets.ISO_8859_1));
            ((ByteBuf) msg).release();
        }
        return out.toString();
    }

    @Test
    void bytesGoToThePeerUnchangedFlushedOncePerReadBatchAndCounted() throws Exception {
        relay();

        client.pipeline().fireChannelRead(bytes("a\r\n"));
        client.pipeline().fireChannelRead(bytes("\0b"));
        assertThat(backend.outboundMessages()).as("written, not flushed before the batch ends").isEmpty();
        client.pipeline().fireChannelReadComplete();
        backend.writeInbound(bytes("reply"));

        assertThat(drain(backend)).isEqualTo("a\r\n\0b");
        assertThat(drain(client)).isEqualTo("reply");
        assertThat(session.bytesFromClient()).isEqualTo(5);
        assertThat(session.bytesToClient()).isEqualTo(5);
    }

    @Test
    void aPeerThatCannotTakeMoreStopsReadingOnTheOtherSide() throws Exception {
        relay();
        backend.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));

        client.pipeline().fireChannelRead(bytes("x".repeat(32))); // written to the backend, not flushed

        assertThat(backend.isWritable()).isFalse();
        assertThat(client.config().isAutoRead()).as("the client is not read while the backend is full").isFalse();
        backend.flushOutbound();
        assertThat(backend.isWritable()).isTrue();
        assertThat(client.config().isAutoRead()).isTrue();
        assertThat(drain(backend)).hasSize(32);
    }

    @Test
    void theEndOfOneSidesInputEndsThePeersOutput() throws Exception {
        relay();

        client.pipeline().fireChannelRead(bytes("QUIT\r\n"));
        client.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        backend.runPendingTasks();

        // An embedded channel has no half of its own to shut: the relay closes it, after what was written.
        assertThat(drain(backend)).isEqualTo("QUIT\r\n");
        assertThat(backend.isOpen()).isFalse();
    }

    @Test
    void whenOneSideClosesTheOtherClosesAfterItsPendingWrites() throws Exception {
        relay();
        backend.pipeline().fireChannelRead(bytes("+OK bye\r\n"));

        backend.close();
        client.runPendingTasks();

        assertThat(drain(client)).isEqualTo("+OK bye\r\n");
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void bytesForAClosedPeerAreReleased() throws Exception {
        session = new Session(rule("none"), new InetSocketAddress("192.0.2.1", 40000), metrics.rule("r"));
        backend = new EmbeddedChannel();
        backend.close();
        client = new EmbeddedChannel(new RelayHandler(backend, session, true));
        ByteBuf late = bytes("late");

        client.pipeline().fireChannelRead(late);

        assertThat(late.refCnt()).isZero();
    }

    @Test
    void clientBytesBeforeTheBackendIsConnectedAreBounded() throws Exception {
        Rule rule = rule("implicit"); // the backend waits for a handshake that never comes here
        NioEventLoopGroup loops = new NioEventLoopGroup(1);
        BackendPools pools = new BackendPools(new SimpleMeterRegistry(), loops, NioSocketChannel.class,
                DefaultAddressResolverGroup.INSTANCE);
        try {
            BackendPool pool = pools.apply(RulesLoader.parse("""
                    certificates:
                      test: { selfSigned: [localhost] }
                    rules:
                      - name: r
                        listen: ["127.0.0.1:0"]
                        protocol: tcp
                        certificate: test
                        backend: ["127.0.0.1:9"]
                    """, Path.of("rules.yaml"))).get("r");
            session = new Session(rule, new InetSocketAddress("192.0.2.1", 40000), metrics.rule("r"));
            client = new EmbeddedChannel(new BackendConnector(session, pool, NioSocketChannel.class,
                    DefaultAddressResolverGroup.INSTANCE, null));

            client.writeInbound(bytes("x".repeat(BackendConnector.MAX_PENDING_BYTES)));
            assertThat(client.isOpen()).as("up to the bound, held").isTrue();
            client.writeInbound(bytes("y"));

            assertThat(client.isOpen()).isFalse();
            session.end();
        } finally {
            pools.close();
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
