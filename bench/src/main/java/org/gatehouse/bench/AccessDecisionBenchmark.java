package org.gatehouse.bench;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.gatehouse.access.ConnectionLimits;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.AccessDecision;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.DomainSet;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the access gate decides for one connection before any TLS byte: the deny and allow lists by address, then the
 * rule's limits (a slot taken and given back, and the client's rate).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AccessDecisionBenchmark {

    private static final int CLIENTS = 1024;

    private Access access;
    private Limits limits;
    private ConnectionLimits.RuleLimiter limiter;
    private InetAddress[] clients;
    private int next;

    @Setup
    public void setUp() throws Exception {
        List<AddressBlock> allow = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            allow.add(AddressBlock.parse("10." + (i / 256) + "." + (i % 256) + ".0/24"));
        }
        access = new Access(false, new ClientList(List.of("corp"), AddressSet.of(allow), DomainSet.empty()),
                new ClientList(List.of("blocked"), AddressSet.of(List.of(AddressBlock.parse("10.0.66.0/24"))),
                        DomainSet.empty()));
        limits = new Limits(10_000, 20, Optional.of(new Limits.Rate(1_000_000, Duration.ofSeconds(1))),
                Limits.DEFAULT_HANDSHAKE_TIMEOUT, Optional.empty());
        limiter = new ConnectionLimits().forRule("bench");
        clients = new InetAddress[CLIENTS];
        for (int i = 0; i < CLIENTS; i++) {
            clients[i] = InetAddress.getByAddress(new byte[]{10, (byte) (i / 256), (byte) (i % 256), 7});
        }
    }

    @Benchmark
    public Object decideAndTakeASlot() {
        InetAddress client = clients[next++ & (CLIENTS - 1)];
        AccessDecision decision = access.decide(client);
        if (decision instanceof AccessDecision.Admitted) {
            Optional<String> over = limiter.acquire(client, limits);
            if (over.isEmpty()) {
                limiter.release(client);
            }
            return over;
        }
        return decision;
    }
}
