package org.gatehouse.metrics;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway's meters. Tags are the rule name and a small fixed set of reasons: never a client address, so the number
 * of series stays bounded whatever the traffic.
 */
public final class GatewayMetrics {

    private final MeterRegistry registry;
    private final Map<String, RuleMeters> byRule = new ConcurrentHashMap<>();

    public GatewayMetrics(MeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The meters of one rule, created on first use. */
    public RuleMeters rule(String rule) {
        return byRule.computeIfAbsent(rule, r -> new RuleMeters(registry, r));
    }

    /** Meters for one rule; counters are thread-safe, the active gauge reads an atomic. */
    public static final class RuleMeters {
        private final MeterRegistry registry;
        private final String rule;
        private final Counter accepted;
        private final Counter bytesFromClient;
        private final Counter bytesToClient;
        private final AtomicLong active = new AtomicLong();
        private final Map<String, Counter> rejected = new ConcurrentHashMap<>();
        private final Map<String, Counter> backendFailures = new ConcurrentHashMap<>();
        private final Map<String, Counter> plaintextLogins = new ConcurrentHashMap<>();
        private final Map<String, Counter> violations = new ConcurrentHashMap<>();
        private final Counter starttls;

        RuleMeters(MeterRegistry registry, String rule) {
            this.registry = registry;
            this.rule = rule;
            this.accepted = Counter.builder("gatehouse.connections.accepted")
                    .description("Connections admitted by the access gate").tag("rule", rule).register(registry);
            this.bytesFromClient = Counter.builder("gatehouse.relay.bytes").baseUnit("bytes")
                    .description("Plaintext bytes relayed").tags("rule", rule, "direction", "client-to-backend").register(registry);
            this.bytesToClient = Counter.builder("gatehouse.relay.bytes").baseUnit("bytes")
                    .description("Plaintext bytes relayed").tags("rule", rule, "direction", "backend-to-client").register(registry);
            this.starttls = Counter.builder("gatehouse.starttls.upgrades")
                    .description("Connections upgraded to TLS by STLS or STARTTLS").tag("rule", rule).register(registry);
            Gauge.builder("gatehouse.connections.active", active, AtomicLong::get)
                    .description("Client connections open now").tag("rule", rule).register(registry);
        }

        public void accepted() {
            accepted.increment();
        }

        /** A refusal; {@code reason} is one of a few fixed words (deny-list, not-allowed, tls-handshake, no-backend). */
        public void rejected(String reason) {
            rejected.computeIfAbsent(reason, r -> Counter.builder("gatehouse.connections.rejected")
                    .description("Connections refused or ended before relaying, by reason")
                    .tags("rule", rule, "reason", r).register(registry)).increment();
        }

        public void backendConnectFailed(String backend) {
            backendFailures.computeIfAbsent(backend, b -> Counter.builder("gatehouse.backend.connect.failures")
                    .description("Failed connection attempts to a backend server")
                    .tags("rule", rule, "backend", b).register(registry)).increment();
        }

        /** A login that would send a password in clear text; {@code action} is refused or audited. */
        public void plaintextLogin(String action) {
            plaintextLogins.computeIfAbsent(action, a -> Counter.builder("gatehouse.logins.plaintext")
                    .description("Logins without TLS that send the password, refused or audited by the login policy")
                    .tags("rule", rule, "action", a).register(registry)).increment();
        }

        public void starttls() {
            starttls.increment();
        }

        /** A client closed for breaking its protocol; {@code kind} is one of a few fixed words. */
        public void protocolViolation(String kind) {
            violations.computeIfAbsent(kind, k -> Counter.builder("gatehouse.protocol.violations")
                    .description("Connections closed because the client broke the mail protocol, by kind")
                    .tags("rule", rule, "kind", k).register(registry)).increment();
        }

        public void opened() {
            active.incrementAndGet();
        }

        public void closed() {
            active.decrementAndGet();
        }

        public void relayed(long fromClient, long toClient) {
            if (fromClient > 0) {
                bytesFromClient.increment(fromClient);
            }
            if (toClient > 0) {
                bytesToClient.increment(toClient);
            }
        }
    }
}
