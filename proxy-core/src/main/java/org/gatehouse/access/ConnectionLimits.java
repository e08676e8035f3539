package org.gatehouse.access;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
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
 */
public final class ConnectionLimits {

    /** The most client addresses whose connection rate is remembered per rule. */
    static final int MAX_RATE_ENTRIES = 100_000;
    /** A rate entry not touched for this long is forgotten (longer than any period a rate is written with). */
    static final Duration RATE_ENTRY_LIFETIME = Duration.ofHours(1);

    private final ConcurrentHashMap<String, RuleLimiter> byRule = new ConcurrentHashMap<>();

    public RuleLimiter forRule(String rule) {
        return byRule.computeIfAbsent(rule, r -> new RuleLimiter());
    }

    /** One rule's counts. Thread-safe: connections of one rule are accepted on every event loop. */
    public static final class RuleLimiter {
        private final AtomicInteger open = new AtomicInteger();
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

        /** Client addresses with a connection open now; for tests of boundedness. */
        int clientsWithConnections() {
            return perClient.size();
        }

        long rateEntries() {
            rates.cleanUp();
            return rates.estimatedSize();
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
