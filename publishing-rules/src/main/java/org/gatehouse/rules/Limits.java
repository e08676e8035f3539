package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * How much of the gateway one rule, and one client of it, may take. Zero or empty means no limit.
 *
 * @param maxConnections          connections open at once on the rule
 * @param maxConnectionsPerClient connections open at once from one client address
 * @param connectionRatePerClient new connections from one client address per period
 * @param handshakeTimeout        how long a client may take to complete its TLS handshake (implicit or STARTTLS)
 * @param idleTimeout             how long a connection may pass no byte either way; empty: the protocol's default
 * @param maxPreLoginConnections  mail rules: backend connections open at once for clients that have not logged in yet
 *                                (0: no limit)
 * @param preLoginIdleTimeout     mail rules: how long a client that has not logged in yet may pass no command to the
 *                                backend, nor get a reply from it ({@link Duration#ZERO}: no limit but the idle timeout)
 */
public record Limits(int maxConnections, int maxConnectionsPerClient, Optional<Rate> connectionRatePerClient,
        Duration handshakeTimeout, Optional<Duration> idleTimeout, int maxPreLoginConnections,
        Duration preLoginIdleTimeout) {

    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** Half of Dovecot's and Postfix's default process limit (100), so that one rule cannot take them all. */
    public static final int DEFAULT_MAX_PRE_LOGIN_CONNECTIONS = 50;
    public static final Duration DEFAULT_PRE_LOGIN_IDLE_TIMEOUT = Duration.ofSeconds(60);

    public Limits {
        requireNonNull(connectionRatePerClient, "connectionRatePerClient");
        requireNonNull(handshakeTimeout, "handshakeTimeout");
        requireNonNull(idleTimeout, "idleTimeout");
        requireNonNull(preLoginIdleTimeout, "preLoginIdleTimeout");
        if (maxConnections < 0 || maxConnectionsPerClient < 0 || maxPreLoginConnections < 0
                || preLoginIdleTimeout.isNegative()) {
            throw new IllegalArgumentException("negative limit");
        }
    }

    /** The limits as before the pre-login ones existed; those take their defaults. */
    public Limits(int maxConnections, int maxConnectionsPerClient, Optional<Rate> connectionRatePerClient,
            Duration handshakeTimeout, Optional<Duration> idleTimeout) {
        this(maxConnections, maxConnectionsPerClient, connectionRatePerClient, handshakeTimeout, idleTimeout,
                DEFAULT_MAX_PRE_LOGIN_CONNECTIONS, DEFAULT_PRE_LOGIN_IDLE_TIMEOUT);
    }

    /** The limits of a file that sets none. */
    public static Limits defaults() {
        return new Limits(DEFAULT_MAX_CONNECTIONS, 0, Optional.empty(), DEFAULT_HANDSHAKE_TIMEOUT, Optional.empty());
    }

    /** The pre-login idle timeout, if it is on. */
    public Optional<Duration> preLoginIdleTimeoutIfSet() {
        return preLoginIdleTimeout.isZero() ? Optional.empty() : Optional.of(preLoginIdleTimeout);
    }

    /**
     * The idle timeout that applies to {@code protocol}: the one set, or the protocol's own server autologout time
     * (POP3 10 min, RFC 1939; IMAP 30 min, RFC 3501; SMTP 5 min, RFC 5321); none for tcp.
     */
    public Optional<Duration> idleTimeoutFor(Protocol protocol) {
        if (idleTimeout.isPresent()) {
            return idleTimeout.filter(d -> !d.isZero());
        }
        return switch (protocol) {
            case POP3 -> Optional.of(Duration.ofMinutes(10));
            case IMAP -> Optional.of(Duration.ofMinutes(30));
            case SMTP -> Optional.of(Duration.ofMinutes(5));
            case TCP -> Optional.empty();
        };
    }

    /** {@code count} new connections per {@code period}, as written: {@code 60/min}. */
    public record Rate(int count, Duration period) {
        public Rate {
            requireNonNull(period, "period");
            if (count < 1 || period.isZero() || period.isNegative()) {
                throw new IllegalArgumentException("rate " + count + "/" + period);
            }
        }

        @Override
        public String toString() {
            return count + "/" + (period.equals(Duration.ofSeconds(1))
                    ? "s"
                    : period.equals(Duration.ofMinutes(1))
                            ? "min"
                            : period.equals(Duration.ofHours(1)) ? "h" : period.toSeconds() + "s");
        }
    }
}
