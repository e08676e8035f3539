package org.gatehouse.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.SmtpSettings;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.TlsSettings;
import org.gatehouse.session.PipelineNames;
import org.gatehouse.session.Session;
import org.gatehouse.testing.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The hang-up handler's decisions: which FIN ends a connection, and a memory failure that ends one connection only. */
class HangupTest {

    private final GatewayMetrics metrics = new GatewayMetrics(new SimpleMeterRegistry());
    private final List<Object> passedOn = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @BeforeEach
    void clearLog() {
        LogCapture.clear();
    }

    @AfterEach
    void release() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    private EmbeddedChannel connection(Protocol protocol, String... afterHangup) {
        Rule rule = new Rule("r", true, List.of(new HostPort("127.0.0.1", 0)), protocol, TlsSettings.none(),
                LoginSettings.secureOnly(), SmtpSettings.defaults(),
                Backend.of(List.of(new HostPort("127.0.0.1", 110))),
                Access.any(),
                Limits.defaults(), Optional.empty(), SourcePosition.unknown("test"));
        Session session = new Session(rule, new InetSocketAddress("192.0.2.1", 40000), metrics.rule("r"));
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast(PipelineNames.HANGUP, new Hangup(session));
        for (String name : afterHangup) {
            ch.pipeline().addLast(name, new ChannelInboundHandlerAdapter());
        }
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                passedOn.add(evt);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                passedOn.add(cause);
            }
        });
        channels.add(ch);
        return ch;
    }

    private double counter(String name, String... tags) {
        var c = metrics.registry().find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aFinWhileTheAccessCheckWaitsEndsTheConnection() {
        EmbeddedChannel ch = connection(Protocol.POP3, PipelineNames.ACCESS_GATE);
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(ch.isOpen()).isFalse();
        assertThat(passedOn).isEmpty();
        assertThat(counter("gatehouse.connections.abandoned", "rule", "r", "stage", "access")).isEqualTo(1);
    }

    @Test
    void aFinOnATcpRuleWithTheRelayInPlaceIsAHalfCloseAndPassedOn() {
        EmbeddedChannel ch = connection(Protocol.TCP, PipelineNames.RELAY);
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(ch.isOpen()).isTrue();
        assertThat(passedOn).containsExactly(ChannelInputShutdownEvent.INSTANCE);
    }

    @Test
    void aFinOnAMailRuleBeforeItsBackendConnectionEndsTheConnection() {
        EmbeddedChannel ch = connection(Protocol.IMAP, PipelineNames.BACKEND_CONNECT);
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(ch.isOpen()).isFalse();
        assertThat(counter("gatehouse.connections.abandoned", "rule", "r", "stage", "backend-connect")).isEqualTo(1);
    }

    @Test
    void aMemoryFailureEndsThatConnectionAloneWithoutAStackTrace() {
        EmbeddedChannel failing = connection(Protocol.POP3, PipelineNames.RELAY);
        EmbeddedChannel other = connection(Protocol.POP3, PipelineNames.RELAY);
        for (int i = 0; i < 3; i++) {
            EmbeddedChannel ch = i == 0 ? failing : connection(Protocol.POP3, PipelineNames.RELAY);
            ch.pipeline().fireExceptionCaught(new OutOfMemoryError("Cannot reserve 65536 bytes of direct buffer memory "
                    + "(allocated: 16711680, limit: 16777216)"));
            assertThat(ch.isOpen()).isFalse();
        }
        assertThat(other.isOpen()).isTrue();
        assertThat(passedOn).isEmpty();
        assertThat(counter("gatehouse.resource.exhausted", "rule", "r", "resource", "memory")).isEqualTo(3);
        List<String> lines = LogCapture.lines().stream().filter(l -> l.startsWith("gatehouse.connections ")).toList();
        assertThat(lines).singleElement().asString().contains("out of memory for a connection, closed it alone")
                .contains("rule=r").contains("count=1").doesNotContain(" | ");
    }
}
