package org.gatehouse.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.gatehouse.dns.ClientName;
import org.gatehouse.dns.ReverseDns;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.AccessDecision;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.DomainSet;
import org.gatehouse.testing.TestDnsServer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The access decision of a client whose name is already cached: the cost a domain rule adds to a connection in the
 * steady state. 4,096 distinct client addresses, all verified under one allowed domain, looked up in turn.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ReverseDnsCacheHitBenchmark {

    private static final int CLIENTS = 4096;

    private TestDnsServer server;
    private EventLoopGroup loop;
    private ReverseDns dns;
    private InetAddress[] clients;
    private Access access;
    private int next;

    @Setup
    public void setUp() throws Exception {
        server = TestDnsServer.start();
        clients = new InetAddress[CLIENTS];
        for (int i = 0; i < CLIENTS; i++) {
            String address = "127.1." + (i >> 8) + "." + (i & 0xff);
            String name = "h" + i + ".eu.partner.example";
            server.ptr(address, name, 3600).address(name, address, 3600);
            clients[i] = InetAddress.getByName(address);
        }
        loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        DnsSettings settings = new DnsSettings(List.of(new HostPort("127.0.0.1", server.address().getPort())),
                Duration.ofSeconds(5), 100_000, Duration.ofHours(1), Duration.ofMinutes(5), DnsSettings.OnFailure.DENY,
                SourcePosition.unknown("bench"));
        dns = ReverseDns.start(settings, loop.next(), NioDatagramChannel.class, NioSocketChannel.class,
                new SimpleMeterRegistry());
        for (InetAddress client : clients) {
            ClientName name = dns.lookup(client).get(10, TimeUnit.SECONDS);
            if (!(name instanceof ClientName.Verified)) {
                throw new IllegalStateException(client + " was not verified: " + name.result());
            }
        }
        access = new Access(false, new ClientList(List.of("partners"), AddressSet.empty(),
                DomainSet.of(List.of("contoso.com", "partner.example"))), ClientList.empty());
    }

    @Benchmark
    public AccessDecision cachedLookupAndDecision() {
        InetAddress client = clients[next++ & (CLIENTS - 1)];
        if (access.decide(client) != AccessDecision.Pending.NAME_REQUIRED) {
            throw new IllegalStateException("the address alone decided");
        }
        CompletableFuture<ClientName> name = dns.lookup(client);
        return access.decide(client, name.getNow(ClientName.Failure.ERROR).verifiedNames());
    }

    @TearDown
    public void tearDown() {
        dns.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        server.close();
    }
}
