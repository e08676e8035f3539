package org.gatehouse.access;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.TlsSettings;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.DomainSet;
import org.gatehouse.session.Session;
import org.junit.jupiter.api.Test;

class AccessGateTest {

    private final GatewayMetrics metrics = new GatewayMetrics(new SimpleMeterRegistry());

    private static Rule ruleAllowing(String cidr) {
        ClientList allow = new ClientList(List.of(cidr), AddressSet.of(List.of(AddressBlock.parse(cidr))), DomainSet.empty());
        return new Rule("pop3s", true, List.of(new HostPort("127.0.0.1", 0)), Protocol.POP3, TlsSettings.none(),
                LoginSettings.secureOnly(),
                List.of(new HostPort("127.0.0.1", 110)), new Access(false, allow, ClientList.empty()),
                SourcePosition.unknown("test"));
    }

    private Session session(Rule rule, String client) {
        return new Session(rule, new InetSocketAddress(client, 40000), metrics.rule(rule.name()));
    }

    @Test
    void deniedClientIsClosedWithoutAByteAndWithoutTheRestOfThePipeline() throws Exception {
        AtomicBoolean built = new AtomicBoolean();
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        try {
            ch.pipeline().addLast(new AccessGate(session(ruleAllowing("10.0.0.0/8"), "192.0.2.1"), p -> built.set(true)));
            ch.register();

            assertThat(ch.isOpen()).isFalse();
            assertThat(built).isFalse();
            assertThat((Object) ch.readOutbound()).isNull();
            assertThat(metrics.registry().get("gatehouse.connections.rejected").tags("rule", "pop3s", "reason", "not-allowed")
                    .counter().count()).isEqualTo(1);
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void admittedClientGetsItsPipelineAndTheGateLeaves() throws Exception {
        AtomicBoolean activeSeen = new AtomicBoolean();
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        try {
            ch.pipeline().addLast("access-gate", new AccessGate(session(ruleAllowing("10.0.0.0/8"), "10.1.2.3"),
                    p -> p.addLast("next", new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(ChannelHandlerContext ctx) {
                            activeSeen.set(true);
                        }
                    })));
            ch.register();

            assertThat(ch.isOpen()).isTrue();
            assertThat(ch.pipeline().names()).contains("next").doesNotContain("access-gate");
            assertThat(activeSeen).as("handlers added on admission see channelActive").isTrue();
            assertThat(metrics.registry().get("gatehouse.connections.accepted").tags("rule", "pop3s").counter().count())
                    .isEqualTo(1);
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
