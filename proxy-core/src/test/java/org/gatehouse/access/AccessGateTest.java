package org.gatehouse.access;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.gatehouse.dns.ClientName;
import org.gatehouse.dns.ClientNames;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.SmtpSettings;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.rules.TlsSettings;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.DomainSet;
import org.gatehouse.session.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AccessGateTest {

    private final GatewayMetrics metrics = new GatewayMetrics(new SimpleMeterRegistry());
    private final ConnectionLimits limits = new ConnectionLimits();
    private final AtomicBoolean built = new AtomicBoolean();
    private final AtomicInteger lookups = new AtomicInteger();
    private final CompletableFuture<ClientName> name = new CompletableFuture<>();
    private final ClientNames names = client -> {
        lookups.incrementAndGet();
        return name;
    };
    private EmbeddedChannel ch;

    @AfterEach
    void release() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    /** A rule that allows {@code cidr} and, when given, clients named under {@code domain}. */
    private static Rule rule(Protocol protocol, TlsMode tls, String cidr, String domain) {
        ClientList allow = new ClientList(List.of("corp"), AddressSet.of(List.of(AddressBlock.parse(cidr))),
                domain == null ? DomainSet.empty() : DomainSet.of(List.of(domain)));
        TlsSettings tlsSettings = tls == TlsMode.NONE ? TlsSettings.none() : TlsSettings.of(tls, List.of("test"));
        return new Rule("r", true, List.of(new HostPort("127.0.0.1", 0)), protocol, tlsSettings,
                LoginSettings.secureOnly(), SmtpSettings.defaults(),
                Backend.of(List.of(new HostPort("127.0.0.1", 110))),
                new Access(false, allow, ClientList.empty()), Limits.defaults(), Optional.empty(),
                SourcePosition.unknown("test"));
    }

    private void connect(Rule rule, String client, DnsSettings.OnFailure onFailure) throws Exception {
        Session session = new Session(rule, new InetSocketAddress(client, 40000), metrics.rule(rule.name()));
        ch = new EmbeddedChannel(false, false);
        ch.pipeline().addLast("access-gate", new AccessGate(session, names, onFailure, limits.forRule(rule.name()),
                p -> {
                }, p -> {
                    built.set(true);
                    p.addLast("next", new ChannelInboundHandlerAdapter());
                }));
        ch.register();
    }

    private String written() {
        ByteBuf out = ch.readOutbound();
        if (out == null) {
            return null;
        }
        try {
            return out.toString(StandardCharsets.US_ASCII);
        } finally {
            out.release();
        }
    }

    private double rejected(String reason) {
        var c = metrics.registry().find("gatehouse.connections.rejected").tags("rule", "r", "reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void deniedClientOnAPlaintextListenerIsToldInItsProtocolAndClosed() throws Exception {
        connect(rule(Protocol.POP3, TlsMode.STARTTLS, "10.0.0.0/8", null), "192.0.2.1", DnsSettings.OnFailure.DENY);

        assertThat(written()).isEqualTo("-ERR Access denied\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(built).isFalse();
        assertThat(lookups).hasValue(0);
        assertThat(rejected("not-allowed")).isEqualTo(1);
    }

    @Test
    void deniedClientOnAnImplicitTlsListenerSeesOnlyTheClose() throws Exception {
        connect(rule(Protocol.IMAP, TlsMode.IMPLICIT, "10.0.0.0/8", null), "192.0.2.1", DnsSettings.OnFailure.DENY);

        assertThat(written()).isNull();
        assertThat(ch.isOpen()).isFalse();
        assertThat(built).isFalse();
    }

    @Test
    void admittedClientGetsItsPipelineAndTheGateLeaves() throws Exception {
        AtomicBoolean activeSeen = new AtomicBoolean();
        Rule rule = rule(Protocol.POP3, TlsMode.IMPLICIT, "10.0.0.0/8", null);
        Session session = new Session(rule, new InetSocketAddress("10.1.2.3", 40000), metrics.rule(rule.name()));
        ch = new EmbeddedChannel(false, false);
        ch.pipeline().addLast("access-gate", new AccessGate(session, names, DnsSettings.OnFailure.DENY,
                limits.forRule(rule.name()), p -> {
                }, p -> p.addLast("next", new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        activeSeen.set(true);
                    }
                })));
        ch.register();

        assertThat(ch.isOpen()).isTrue();
        assertThat(ch.pipeline().names()).contains("next").doesNotContain("access-gate");
        assertThat(activeSeen).as("handlers added on admission see channelActive").isTrue();
        assertThat(metrics.registry().get("gatehouse.connections.accepted").tags("rule", "r").counter().count())
                .isEqualTo(1);
        assertThat(lookups).hasValue(0);
    }

    @Test
    void whileTheNameIsLookedUpNothingIsSentAndNothingBuilt() throws Exception {
        connect(rule(Protocol.SMTP, TlsMode.STARTTLS, "10.0.0.0/8", "contoso.com"), "192.0.2.1",
                DnsSettings.OnFailure.DENY);
        ch.runPendingTasks();

        assertThat(lookups).hasValue(1);
        assertThat(ch.isOpen()).isTrue();
        assertThat(built).isFalse();
        assertThat(written()).isNull();
        assertThat(ch.pipeline().names()).contains("access-gate");

        name.complete(new ClientName.Verified(List.of("mx1.contoso.com")));
        ch.runPendingTasks();

        assertThat(built).isTrue();
        assertThat(ch.pipeline().names()).doesNotContain("access-gate");
    }

    @Test
    void aClientAllowedByAddressNeedsNoLookup() throws Exception {
        connect(rule(Protocol.SMTP, TlsMode.STARTTLS, "10.0.0.0/8", "contoso.com"), "10.9.9.9",
                DnsSettings.OnFailure.DENY);

        assertThat(built).isTrue();
        assertThat(lookups).hasValue(0);
    }

    @Test
    void aNameOutsideTheDomainsIsDenied() throws Exception {
        name.complete(new ClientName.NotConfirmed("mx1.contoso.com"));
        connect(rule(Protocol.IMAP, TlsMode.STARTTLS, "10.0.0.0/8", "contoso.com"), "192.0.2.1",
                DnsSettings.OnFailure.DENY);

        assertThat(written()).isEqualTo("* BYE Access denied\r\n");
        assertThat(built).isFalse();
        assertThat(rejected("not-allowed")).isEqualTo(1);
    }

    @Test
    void aFailedLookupUnderDenyIsATemporaryRefusal() throws Exception {
        name.complete(ClientName.Failure.TIMEOUT);
        connect(rule(Protocol.SMTP, TlsMode.STARTTLS, "10.0.0.0/8", "contoso.com"), "192.0.2.1",
                DnsSettings.OnFailure.DENY);

        assertThat(written()).isEqualTo("421 4.4.3 Cannot verify your host name now, try again later\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(rejected("dns-failure")).isEqualTo(1);
    }

    @Test
    void aFailedLookupUnderIgnoreDomainRulesIsDecidedByAddressAlone() throws Exception {
        name.complete(ClientName.Failure.SERVFAIL);
        Rule rule = rule(Protocol.POP3, TlsMode.STARTTLS, "10.0.0.0/8", "contoso.com");
        connect(rule, "192.0.2.1", DnsSettings.OnFailure.IGNORE_DOMAIN_RULES);

        assertThat(written()).isEqualTo("-ERR Access denied\r\n");
        assertThat(rejected("not-allowed")).isEqualTo(1);
        assertThat(rejected("dns-failure")).isZero();
    }

    @Test
    void aClientThatLeavesDuringTheLookupIsNotAdmittedLater() throws Exception {
        connect(rule(Protocol.POP3, TlsMode.IMPLICIT, "10.0.0.0/8", "contoso.com"), "192.0.2.1",
                DnsSettings.OnFailure.DENY);
        ch.close();

        name.complete(new ClientName.Verified(List.of("mail.contoso.com")));
        ch.runPendingTasks();

        assertThat(built).isFalse();
        assertThat(metrics.registry().get("gatehouse.connections.accepted").tags("rule", "r").counter().count())
                .isZero();
        assertThat(rejected("not-allowed")).isZero();
    }
}
