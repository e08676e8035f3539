package org.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.Backend.ClientIdentity;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.load.RulesLoader;
import org.gatehouse.session.PipelineNames;
import org.gatehouse.session.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The exchange handler on its own: lines split anywhere, the greeting held and passed on unchanged, bounds. */
class ClientIdentityExchangeTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private EmbeddedChannel backend;
    private final List<String> relayed = new ArrayList<>();
    private int handedOver;
    private int failed;
    private Session session;

    @BeforeEach
    void start() throws Exception {
        Rule rule = RulesLoader.parse("""
                rules:
                  - name: r
                    listen: ["127.0.0.1:0"]
                    protocol: smtp
                    tls: none
                    backend: { servers: ["127.0.0.1:25"], clientIdentity: xclient }
                """, Path.of("rules.yaml")).rules().get(0);
        session = new Session(rule, new InetSocketAddress("127.0.0.77", 40123),
                new GatewayMetrics(registry).rule("r"));
        IdentityDialogue dialogue = IdentityDialogue.of(ClientIdentity.XCLIENT, Protocol.SMTP, session.client(),
                Optional.empty(), new InetSocketAddress("127.0.0.1", 50000));
        backend = new EmbeddedChannel();
        backend.pipeline().addLast(PipelineNames.CLIENT_IDENTITY, new ClientIdentityExchange(dialogue, session,
                "127.0.0.1:25", new ClientIdentityExchange.Handover() {
                    @Override
                    public void relay() {
                        handedOver++;
                    }

                    @Override
                    public void fail() {
                        failed++;
                    }
                }));
        backend.pipeline().addLast(PipelineNames.RELAY, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf buf = (ByteBuf) msg;
                relayed.add(buf.toString(StandardCharsets.ISO_8859_1));
                buf.release();
            }
        });
    }

    @AfterEach
    void stop() {
        backend.finishAndReleaseAll();
    }

    private void server(String text) {
        backend.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    private String sent() {
        StringBuilder out = new StringBuilder();
        for (Object msg; (msg = backend.readOutbound()) != null;) {
            out.append(((ByteBuf) msg).toString(StandardCharsets.ISO_8859_1));
            ((ByteBuf) msg).release();
        }
        return out.toString();
    }

    private double counted(String result) {
        var counter = registry.find("gatehouse.backend.client.identity").tags("rule", "r", "result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void linesSplitAnywhereAndTheGreetingReachesTheRelayUnchangedAfterTheDialogue() {
        server("220-first line\r\n220 sec");
        assertThat(sent()).isEmpty();
        server("ond line\r\n");
        assertThat(sent()).isEqualTo("EHLO [127.0.0.1]\r\n");
        server("250-mx\r\n250-XCLIENT ADDR PORT\r");
        server("\n250 OK\r\n");
        assertThat(sent()).isEqualTo("XCLIENT ADDR=127.0.0.77 PORT=40123\r\n");
        assertThat(relayed).isEmpty();
        assertThat(handedOver).isZero();
        server("220 new greeting\r\n");
        assertThat(relayed).containsExactly("220-first line\r\n220 second line\r\n");
        assertThat(handedOver).isEqualTo(1);
        assertThat(backend.pipeline().get(PipelineNames.CLIENT_IDENTITY)).isNull();
        assertThat(counted("sent")).isEqualTo(1);
        server("250 from now on relayed\r\n");
        assertThat(relayed).last().isEqualTo("250 from now on relayed\r\n");
    }

    @Test
    void aRefusingGreetingIsPassedOnAtOnce() {
        server("554 5.7.1 go away\r\n");
        assertThat(sent()).isEmpty();
        assertThat(relayed).containsExactly("554 5.7.1 go away\r\n");
        assertThat(handedOver).isEqualTo(1);
        assertThat(counted("skipped")).isEqualTo(1);
    }

    @Test
    void aServerThatSendsAnEndlessLineIsBrokenAndTheClientIsToldToComeBack() {
        server("220 hi\r\n");
        sent();
        server("250-" + "x".repeat(ClientIdentityExchange.MAX_LINE + 10));
        assertThat(failed).isEqualTo(1);
        assertThat(handedOver).isZero();
        assertThat(backend.isOpen()).isFalse();
        assertThat(counted("broken")).isEqualTo(1);
        assertThat(relayed).isEmpty();
    }

    @Test
    void aServerThatSendsTooManyLinesIsBroken() {
        server("220 hi\r\n");
        sent();
        server("250-PIPELINING\r\n".repeat(ClientIdentityExchange.MAX_LINES + 1));
        assertThat(failed).isEqualTo(1);
        assertThat(backend.isOpen()).isFalse();
    }
}
