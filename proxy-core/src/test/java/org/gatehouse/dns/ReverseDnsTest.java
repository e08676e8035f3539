package org.gatehouse.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.dns.DnsRecordType;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.testing.TestDnsServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ReverseDns} against a DNS server on loopback, with a clock the test moves. */
class ReverseDnsTest {

    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private TestDnsServer server;
    private ReverseDns dns;

    @TempDir
    Path dir;

    @BeforeEach
    void startServer() throws Exception {
        server = TestDnsServer.start();
        server.ptr("127.0.0.2", "mail.contoso.com", 300).address("mail.contoso.com", "127.0.0.2", 60);
        // A PTR that names someone else's host, which does not point back: a spoof.
        server.ptr("127.0.0.4", "mail.contoso.com", 300);
        server.ptr("::1", "v6.partner.example", 300).address("v6.partner.example", "::1", 300)
                .address("v6.partner.example", "127.0.0.9", 300);
        // Two names; only the second points back.
        server.ptr("127.0.0.5", "stale.example", 300).ptr("127.0.0.5", "host5.partner.example", 300)
                .address("stale.example", "192.0.2.1", 300).address("host5.partner.example", "127.0.0.5", 300);
        server.ptr("127.0.0.6", "long.partner.example", 86_400).address("long.partner.example", "127.0.0.6", 86_400);
    }

    @AfterEach
    void stop() {
        if (dns != null) {
            dns.close();
        }
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        server.close();
    }

    private ReverseDns dns(Duration timeout, Duration maxTtl, Duration negativeTtl, int maxEntries) {
        DnsSettings settings = new DnsSettings(List.of(new HostPort("127.0.0.1", server.address().getPort())), timeout,
                maxEntries, maxTtl, negativeTtl, DnsSettings.OnFailure.DENY, SourcePosition.unknown("test"));
        dns = ReverseDns.start(settings, loop.next(), NioDatagramChannel.class, NioSocketChannel.class, registry,
                now::get,
                "/etc/resolv.conf");
        return dns;
    }

    private ReverseDns dns() {
        return dns(Duration.ofSeconds(5), Duration.ofHours(1), Duration.ofMinutes(5), 1000);
    }

    private static ClientName lookup(ReverseDns dns, String client) throws Exception {
        return dns.lookup(InetAddress.getByName(client)).get(10, TimeUnit.SECONDS);
    }

    private double lookups(String result) {
        var c = registry.find("gatehouse.dns.lookups").tag("result", result).counter();
        return c == null ? 0 : c.count();
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void aNameCountsWhenItsForwardRecordContainsTheClient() throws Exception {
        assertThat(lookup(dns(), "127.0.0.2")).isEqualTo(new ClientName.Verified(List.of("mail.contoso.com")));

        assertThat(server.questions()).containsExactly(
                new TestDnsServer.Question("2.0.0.127.in-addr.arpa", DnsRecordType.PTR),
                new TestDnsServer.Question("mail.contoso.com", DnsRecordType.A));
        assertThat(lookups("verified")).isEqualTo(1);
        assertThat(registry.get("gatehouse.dns.lookup.duration").timer().count()).isEqualTo(1);
    }

    @Test
    void aPtrRecordWithoutTheForwardRecordBuysNothing() throws Exception {
        assertThat(lookup(dns(), "127.0.0.4")).isEqualTo(new ClientName.NotConfirmed("mail.contoso.com"));
        assertThat(lookups("not-confirmed")).isEqualTo(1);
    }

    @Test
    void anIpv6ClientIsConfirmedByAaaaOnly() throws Exception {
        assertThat(lookup(dns(), "::1")).isEqualTo(new ClientName.Verified(List.of("v6.partner.example")));
        assertThat(server.count(DnsRecordType.AAAA)).isEqualTo(1);
        assertThat(server.count(DnsRecordType.A)).isZero();
        assertThat(server.questions().get(0).name())
                .isEqualTo("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
    }

    @Test
    void everyPtrNameIsTriedAndOnlyConfirmedOnesAreKept() throws Exception {
        assertThat(lookup(dns(), "127.0.0.5")).isEqualTo(new ClientName.Verified(List.of("host5.partner.example")));
        assertThat(server.count(DnsRecordType.A)).isEqualTo(2);
    }

    @Test
    void noPtrRecordIsNxdomainAndIsCachedForTheNegativeTtl() throws Exception {
        ReverseDns dns = dns(Duration.ofSeconds(5), Duration.ofHours(1), Duration.ofMinutes(5), 1000);

        assertThat(lookup(dns, "127.0.0.77")).isEqualTo(ClientName.NoName.NXDOMAIN);
        advance(Duration.ofMinutes(4));
        assertThat(lookup(dns, "127.0.0.77")).isEqualTo(ClientName.NoName.NXDOMAIN);
        assertThat(server.count(DnsRecordType.PTR)).isEqualTo(1);

        advance(Duration.ofMinutes(2));
        assertThat(lookup(dns, "127.0.0.77")).isEqualTo(ClientName.NoName.NXDOMAIN);
        assertThat(server.count(DnsRecordType.PTR)).isEqualTo(2);
        assertThat(lookups("nxdomain")).isEqualTo(2);
        assertThat(lookups("cache-hit")).isEqualTo(1);
    }

    @Test
    void aVerifiedNameIsCachedForItsShortestRecordTtl() throws Exception {
        ReverseDns dns = dns();

        lookup(dns, "127.0.0.2");
        advance(Duration.ofSeconds(59));
        assertThat(lookup(dns, "127.0.0.2")).isInstanceOf(ClientName.Verified.class);
        assertThat(server.count(DnsRecordType.PTR)).isEqualTo(1);

        advance(Duration.ofSeconds(2)); // past the A record's 60 s, though the PTR's 300 s still run
        assertThat(lookup(dns, "127.0.0.2")).isInstanceOf(ClientName.Verified.class);
        assertThat(server.count(DnsRecordType.PTR)).isEqualTo(2);
    }

    @Test
    void noAnswerIsCachedLongerThanMaxTtl() throws Exception {
        ReverseDns dns = dns(Duration.ofSeconds(5), Duration.ofMinutes(10), Duration.ofMinutes(5), 1000);

        lookup(dns, "127.0.0.6"); // records say one day
        advance(Duration.ofMinutes(9));
        lookup(dns, "127.0.0.6");
        assertThat(server.count(DnsRecordType.PTR)).isEqualTo(1);
        advance(Duration.ofMinutes(2));
        lookup(dns, "127.0.0.6");
        assertThat(server.count(DnsRecordType.PTR)).isEqualTo(2);
    }

    @Test
    void servfailIsAFailureAndIsNotCached() throws Exception {
        server.servfail("127.0.0.8");
        ReverseDns dns = dns();

        assertThat(lookup(dns, "127.0.0.8")).isEqualTo(ClientName.Failure.SERVFAIL);
        assertThat(lookup(dns, "127.0.0.8")).isEqualTo(ClientName.Failure.SERVFAIL);
        assertThat(server.count(DnsRecordType.PTR)).isEqualTo(2);
        assertThat(lookups("servfail")).isEqualTo(2);
    }

    @Test
    void aServerThatNeverAnswersIsATimeoutWithinTheBudget() throws Exception {
        server.silent(true);
        ReverseDns dns = dns(Duration.ofMillis(300), Duration.ofHours(1), Duration.ofMinutes(5), 1000);

        assertThat(lookup(dns, "127.0.0.2")).isEqualTo(ClientName.Failure.TIMEOUT);
        assertThat(dns.cached(InetAddress.getByName("127.0.0.2"))).isEmpty();
        assertThat(lookups("timeout")).isEqualTo(1);
    }

    @Test
    void aForwardLookupThatTimesOutIsAFailureNotADenial() throws Exception {
        server.ptr("127.0.0.10", "slow.partner.example", 300).silentFor("slow.partner.example");
        ReverseDns dns = dns(Duration.ofMillis(300), Duration.ofHours(1), Duration.ofMinutes(5), 1000);

        assertThat(lookup(dns, "127.0.0.10")).isEqualTo(ClientName.Failure.TIMEOUT);
    }

    @Test
    void concurrentLookupsOfOneAddressShareOneSetOfQueries() throws Exception {
        ReverseDns dns = dns();
        server.hold();
        List<CompletableFuture<ClientName>> pending = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            pending.add(dns.lookup(InetAddress.getByName("127.0.0.2")));
        }
        assertThat(pending).noneMatch(CompletableFuture::isDone);
        server.release();

        for (CompletableFuture<ClientName> f : pending) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(new ClientName.Verified(List.of("mail.contoso.com")));
        }
        assertThat(server.count(DnsRecordType.PTR)).isEqualTo(1);
        assertThat(lookups("joined")).isEqualTo(4);
        assertThat(lookups("verified")).isEqualTo(1);
    }

    @Test
    void theCacheHoldsAtMostMaxEntriesAddresses() throws Exception {
        ReverseDns dns = dns(Duration.ofSeconds(5), Duration.ofHours(1), Duration.ofMinutes(5), 3);
        for (int i = 20; i < 30; i++) {
            lookup(dns, "127.0.0." + i);
        }
        dns.cleanUp();

        assertThat(registry.get("gatehouse.dns.cache.size").gauge().value()).isLessThanOrEqualTo(3);
    }

    @Test
    void withoutServersOrSystemResolversEveryLookupFailsAtOnce() throws Exception {
        Path empty = Files.writeString(dir.resolve("resolv.conf"), "# no nameserver here\n");
        DnsSettings settings = DnsSettings.defaults(SourcePosition.unknown("test"));
        dns = ReverseDns.start(settings, loop.next(), NioDatagramChannel.class, NioSocketChannel.class, registry,
                now::get,
                empty.toString());

        assertThat(lookup(dns, "127.0.0.2")).isEqualTo(ClientName.Failure.NO_RESOLVER);
        assertThat(server.questions()).isEmpty();
        assertThat(lookups("no-resolver")).isEqualTo(1);
    }

    @Test
    void reverseNamesFollowRfc1035AndRfc3596() throws Exception {
        assertThat(ClientLookup.reverseName(InetAddress.getByName("192.0.2.7"))).isEqualTo("7.2.0.192.in-addr.arpa.");
        assertThat(ClientLookup.reverseName(InetAddress.getByName("2001:db8::567:89ab")))
                .isEqualTo("b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
    }

    @Test
    void queriesShareTheBudgetWhenThereAreSeveralResolvers() {
        assertThat(ReverseDns.queryTimeout(Duration.ofSeconds(3), 1)).isEqualTo(Duration.ofSeconds(3));
        assertThat(ReverseDns.queryTimeout(Duration.ofSeconds(3), 2)).isEqualTo(Duration.ofSeconds(1));
    }
}
