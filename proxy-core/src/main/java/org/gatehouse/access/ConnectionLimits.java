package org.gatehouse.access;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.gatehouse.rules.Limits;

/**
 * The connection counts and rates that a rule's {@link Limits} are checked against, kept per rule across reloads (the
 * connections accepted before a reload still count after it).
 *
 * <p>State stays bounded whatever the number of client addresses: per-client counts exist only while the client has
 * a connection open, and per-client rates live in a Caffeine cache bounded in size and dropped after an hour unused.
 *
 * <p>Also per rule: the backend connections of clients that have not logged in yet ({@code maxPreLoginConnections}),
 * exported as the gauge {@code gatehouse.connections.pre.login}.
 */
public final class ConnectionLimits {

    /** The most client addresses whose connection rate is remembered per rule. */
    static final int MAX_RATE_ENTRIES = 100_000;
    /** A rate entry not touched for this long is forgotten (longer than any period a rate is written with). */
    static final Duration RATE_ENTRY_LIFETIME = Duration.ofHours(1);

    private final ConcurrentHashMap<String, RuleLimiter> byRule = new ConcurrentHashMap<>();
    private final MeterRegistry registry;

    /** Counts without meters (tests). */
    public ConnectionLimits() {
        this(null);
    }

    public ConnectionLimits(MeterRegistry registry) {
        this.registry = registry;
    }

    public RuleLimiter forRule(String rule) {
        return byRule.computeIfAbsent(rule, r -> {
            RuleLimiter limiter = new RuleLimiter();
            if (registry != null) {
                Gauge.builder("gatehouse.connections.pre.login", limiter.preLogin, AtomicInteger::get)
                        .description("Backend connections open for clients that have not logged in yet")
                        .tag("rule", r).register(registry);
            }
            return limiter;
        });
    }

    /** One rule's counts. Thread-safe: connections of one rule are accepted on every event loop. */
    public static final class RuleLimiter {
        private final AtomicInteger open = new AtomicInteger();
        private final AtomicInteger preLogin = new AtomicInteger();
        private final ConcurrentHashMap<InetAddress, AtomicInteger> perClient = new ConcurrentHashMap<>();
        private final Cache<InetAddress, TokenBucket> rates = Caffeine.newBuilder()
                .maximumSize(MAX_RATE_ENTRIES)
                .expireAfterAccess(RATE_ENTRY_LIFETIME)
                .executor(Runnable::run)
                .build();

        /**
         * Takes one connection slot for {@code client} if {@code limits} allow it.
         *
         * @return empty when taken (then {@link #release} once the connection closes), else the limit that refused it:
         *         {@code connection-rate}, {@code max-connections} or {@code max-connections-per-client}
         */
        public Optional<String> acquire(InetAddress client, Limits limits) {
            if (limits.connectionRatePerClient().isPresent()) {
                Limits.Rate rate = limits.connectionRatePerClient().get();
                TokenBucket bucket = rates.get(client, c -> new TokenBucket(rate));
                if (!bucket.take(rate, System.nanoTime())) {
                    return Optional.of("connection-rate");
                }
            }
            int max = limits.maxConnections();
            if (open.incrementAndGet() > max && max > 0) {
                open.decrementAndGet();
                return Optional.of("max-connections");
            }
            int perClientMax = limits.maxConnectionsPerClient();
            boolean[] refused = {false};
            perClient.compute(client, (c, count) -> {
                AtomicInteger n = count == null ? new AtomicInteger() : count;
                if (perClientMax > 0 && n.get() >= perClientMax) {
                    refused[0] = true;
                } else {
                    n.incrementAndGet();
                }
                return n.get() == 0 ? null : n;
            });
            if (refused[0]) {
                open.decrementAndGet();
                return Optional.of("max-connections-per-client");
            }
            return Optional.empty();
        }

        /** Gives back the slot {@link #acquire} took for {@code client}. */
        public void release(InetAddress client) {
            open.decrementAndGet();
            perClient.computeIfPresent(client, (c, n) -> n.decrementAndGet() <= 0 ? null : n);
        }

        /** Connections holding a slot now. */
        public int open() {
            return open.get();
        }

        /** A connection's claim on one of the rule's pre-login backend connections, not taken yet. */
        public PreLoginSlot preLoginSlot() {
            return new PreLoginSlot(preLogin);
        }

        /** Backend connections of clients that have not logged in yet. */
        public int preLogin() {
            return preLogin.get();
        }

        /** Client addresses with a connection open now; for tests of boundedness. */
        int clientsWithConnections() {
            return perClient.size();
        }

        long rateEntries() {
            rates.cleanUp();
            return rates.estimatedSize();
        }
    }

    /**
     * One connection's pre-login backend slot: taken before the backend connection opens, given back when the client
     * logs in or the connection ends, whichever is first. Used on the connection's event loop only.
     */
    public static final class PreLoginSlot {
        private final AtomicInteger count;
        private boolean held;

        PreLoginSlot(AtomicInteger count) {
            this.count = count;
        }

        /** Takes the slot if fewer than {@code max} are taken (0: no limit); false when the rule has none left. */
        public boolean tryAcquire(int max) {
            if (held) {
                return true;
            }
            if (count.incrementAndGet() > max && max > 0) {
                count.decrementAndGet();
                return false;
            }
            held = true;
            return true;
        }

        /** Gives the slot back, once; nothing if it was never taken. */
        public void release() {
            if (held) {
                held = false;
                count.decrementAndGet();
            }
        }

        public boolean held() {
            return held;
        }
    }

    /** A token bucket: {@code count} tokens, refilled evenly over {@code period}; a connection takes one. */
    static final class TokenBucket {
        private double tokens;
        private long last;

        TokenBucket(Limits.Rate rate) {
            this.tokens = rate.count();
            this.last = System.nanoTime();
        }

        synchronized boolean take(Limits.Rate rate, long now) {
            double perNano = rate.count() / (double) rate.period().toNanos();
            tokens = Math.min(rate.count(), tokens + (now - last) * perNano);
            last = now;
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }
    }
}
