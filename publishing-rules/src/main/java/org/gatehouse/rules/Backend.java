package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A rule's plaintext servers and how they are used.
 *
 * @param servers           in the order written
 * @param balance           which server a new connection tries first
 * @param connectTimeout    how long one connection attempt may take before the next server is tried
 * @param healthCheck       active checks that take a server out of (and back into) use; empty: none, every server is
 *                          tried
 * @param sendProxyProtocol whether the backend connection starts with a PROXY protocol header naming the client
 * @param transparent       whether the backend connection is opened from the client's own address (Linux
 *                          IP_TRANSPARENT; written {@code transparent: true} on the rule)
 * @param greetingTimeout   mail rules: how long a server that accepted a connection may take to send its greeting
 */
public record Backend(List<HostPort> servers, Balance balance, Duration connectTimeout,
        Optional<HealthCheck> healthCheck,
        ProxyProtocol sendProxyProtocol, boolean transparent, Duration greetingTimeout) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_GREETING_TIMEOUT = Duration.ofSeconds(15);

    public Backend {
        servers = List.copyOf(servers);
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("a backend needs at least one server");
        }
        requireNonNull(balance, "balance");
        requireNonNull(connectTimeout, "connectTimeout");
        requireNonNull(healthCheck, "healthCheck");
        requireNonNull(sendProxyProtocol, "sendProxyProtocol");
        requireNonNull(greetingTimeout, "greetingTimeout");
    }

    /** The settings as before the greeting timeout existed; it takes its default. */
    public Backend(List<HostPort> servers, Balance balance, Duration connectTimeout, Optional<HealthCheck> healthCheck,
            ProxyProtocol sendProxyProtocol, boolean transparent) {
        this(servers, balance, connectTimeout, healthCheck, sendProxyProtocol, transparent, DEFAULT_GREETING_TIMEOUT);
    }

    /** The short form {@code backend: ["host:port", …]}: tried in order, 5 s each, no health checks, no PROXY header. */
    public static Backend of(List<HostPort> servers) {
        return new Backend(servers, Balance.FIRST, DEFAULT_CONNECT_TIMEOUT, Optional.empty(), ProxyProtocol.OFF, false);
    }

    /** The same settings with other servers (the demo points mail rules at its own). */
    public Backend withServers(List<HostPort> newServers) {
        return new Backend(newServers, balance, connectTimeout, healthCheck, sendProxyProtocol, transparent,
                greetingTimeout);
    }

    /** The same settings, with connections opened from the client's address or not. */
    public Backend withTransparent(boolean value) {
        return new Backend(servers, balance, connectTimeout, healthCheck, sendProxyProtocol, value, greetingTimeout);
    }

    /** Which server a new connection tries first; the others follow, healthy ones only, until one accepts. */
    public enum Balance implements ConfigWord {
        /** In the order written: the first healthy server takes everything (active/passive). */
        FIRST("first"),
        /** Each new connection starts one server further along. */
        ROUND_ROBIN("round-robin"),
        /** The server with the fewest connections open now through this gateway. */
        LEAST_CONNECTIONS("least-connections");

        private final String configName;

        Balance(String configName) {
            this.configName = configName;
        }

        @Override
        public String configName() {
            return configName;
        }

        public static Optional<Balance> fromConfigName(String word) {
            return ConfigWord.parse(Balance.class, word);
        }
    }

    /**
     * Active health checks: every {@code interval}, connect and (for mail protocols) expect the greeting within
     * {@code timeout}, then say goodbye. {@code fall} failures in a row take a server out, {@code rise} successes bring
     * it back.
     */
    public record HealthCheck(Duration interval, Duration timeout, int rise, int fall) {
        public static final HealthCheck DEFAULT = new HealthCheck(Duration.ofSeconds(10), Duration.ofSeconds(3), 2, 3);

        public HealthCheck {
            requireNonNull(interval, "interval");
            requireNonNull(timeout, "timeout");
            if (rise < 1 || fall < 1) {
                throw new IllegalArgumentException("rise and fall must be at least 1");
            }
        }
    }

    /** The PROXY protocol header sent to the backend (HAProxy's spec): none, text (v1) or binary (v2). */
    public enum ProxyProtocol implements ConfigWord {
        OFF("off"),
        V1("v1"),
        V2("v2");

        private final String configName;

        ProxyProtocol(String configName) {
            this.configName = configName;
        }

        @Override
        public String configName() {
            return configName;
        }

        public static Optional<ProxyProtocol> fromConfigName(String word) {
            return ConfigWord.parse(ProxyProtocol.class, word);
        }
    }
}
