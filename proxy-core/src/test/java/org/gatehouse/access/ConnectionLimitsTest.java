package org.gatehouse.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;
import org.gatehouse.rules.Limits;
import org.junit.jupiter.api.Test;

class ConnectionLimitsTest {

    private static InetAddress ip(int i) throws Exception {
        return InetAddress.getByAddress(new byte[]{10, (byte) (i >> 16), (byte) (i >> 8), (byte) i});
    }

    @Test
    void perClientAndPerRuleCountsTakeAndGiveBackSlots() throws Exception {
        ConnectionLimits.RuleLimiter limiter = new ConnectionLimits().forRule("r");
        Limits limits = new Limits(3, 2, Optional.empty(), Limits.DEFAULT_HANDSHAKE_TIMEOUT, Optional.empty());

        assertThat(limiter.acquire(ip(1), limits)).isEmpty();
        assertThat(limiter.acquire(ip(1), limits)).isEmpty();
        assertThat(limiter.acquire(ip(1), limits)).hasValue("max-connections-per-client");
        assertThat(limiter.acquire(ip(2), limits)).isEmpty();
        assertThat(limiter.acquire(ip(3), limits)).hasValue("max-connections");
        assertThat(limiter.open()).isEqualTo(3);

        limiter.release(ip(1));
        assertThat(limiter.acquire(ip(3), limits)).isEmpty();
        assertThat(limiter.acquire(ip(1), limits)).as("the rule is full again").hasValue("max-connections");
    }

    @Test
    void aRateAllowsItsCountThenRefillsOverThePeriod() throws Exception {
        Limits.Rate rate = new Limits.Rate(3, Duration.ofMinutes(1));
        ConnectionLimits.TokenBucket bucket = new ConnectionLimits.TokenBucket(rate);
        long t0 = System.nanoTime();

        assertThat(bucket.take(rate, t0)).isTrue();
        assertThat(bucket.take(rate, t0)).isTrue();
        assertThat(bucket.take(rate, t0)).isTrue();
        assertThat(bucket.take(rate, t0)).isFalse();
        assertThat(bucket.take(rate, t0 + Duration.ofSeconds(19).toNanos())).as("a third of a token per 20 s")
                .isFalse();
        assertThat(bucket.take(rate, t0 + Duration.ofSeconds(21).toNanos())).isTrue();
    }

    @Test
    void stateStaysBoundedWhateverTheNumberOfClientAddresses() throws Exception {
        ConnectionLimits.RuleLimiter limiter = new ConnectionLimits().forRule("r");
        Limits limits = new Limits(0, 5, Optional.of(new Limits.Rate(10, Duration.ofMinutes(1))),
                Limits.DEFAULT_HANDSHAKE_TIMEOUT, Optional.empty());
        int clients = ConnectionLimits.MAX_RATE_ENTRIES + 20_000;
        for (int i = 0; i < clients; i++) {
            assertThat(limiter.acquire(ip(i), limits)).isEmpty();
            limiter.release(ip(i));
        }
        assertThat(limiter.clientsWithConnections()).as("counts exist only while a connection is open").isZero();
        assertThat(limiter.rateEntries()).isLessThanOrEqualTo(ConnectionLimits.MAX_RATE_ENTRIES);
        assertThat(limiter.open()).isZero();
    }
}
