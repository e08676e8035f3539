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
 * @param inBandIdentity    mail rules: the client's address told in the server's own protocol after its greeting
 *                          ({@code xclient} or {@code imap-id}), or {@code NONE}; the PROXY header and transparent
 *                          connections are {@code sendProxyProtocol} and {@code transparent}
 */
public record Backend(List<HostPort> servers, Balance balance, Duration connectTimeout,
        Optional<HealthCheck> healthCheck,
        ProxyProtocol sendProxyProtocol, boolean transparent, Duration greetingTimeout,
        ClientIdentity inBandIdentity) {

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
        requireNonNull(inBandIdentity, "inBandIdentity");
        if (!inBandIdentity.inBand() && inBandIdentity != ClientIdentity.NONE) {
            throw new IllegalArgumentException(inBandIdentity.configName() + " is not told in the server's protocol");
        }
    }

    /** The settings without an in-band identity. */
    public Backend(List<HostPort> servers, Balance balance, Duration connectTimeout, Optional<HealthCheck> healthCheck,
            ProxyProtocol sendProxyProtocol, boolean transparent, Duration greetingTimeout) {
        this(servers, balance, connectTimeout, healthCheck, sendProxyProtocol, transparent, greetingTimeout,
                ClientIdentity.NONE);
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
                greetingTimeout, inBandIdentity);
    }

    /** The same settings, with connections opened from the client's address or not. */
    public Backend withTransparent(boolean value) {
        return new Backend(servers, balance, connectTimeout, healthCheck, sendProxyProtocol, value, greetingTimeout,
                inBandIdentity);
    }

    /** How the server learns the client's address, as {@code clientIdentity} would say it (the first that applies). */
    public ClientIdentity clientIdentity() {
        if (inBandIdentity != ClientIdentity.NONE) {
            return inBandIdentity;
        }
        return switch (sendProxyProtocol) {
            case V1 -> ClientIdentity.PROXY_V1;
            case V2 -> ClientIdentity.PROXY_V2;
            case OFF -> transparent ? ClientIdentity.TRANSPARENT : ClientIdentity.NONE;
        };
    }

    /**
     * How a backend learns the real client's address: not at all, a PROXY protocol header before any byte, a connection
     * from the client's own address, or in the server's own protocol after its greeting (SMTP/POP3 {@code XCLIENT},
     * IMAP {@code ID}) for servers that read neither of the others.
     */
    public enum ClientIdentity implements ConfigWord {
        NONE("none", false),
        PROXY_V1("proxy-v1", false),
        PROXY_V2("proxy-v2", false),
        TRANSPARENT("transparent", false),
        /** Postfix {@code smtpd_authorized_xclient_hosts}; Dovecot's POP3 and submission from trusted networks. */
        XCLIENT("xclient", true),
        /** IMAP {@code ID ("x-originating-ip" …)}: Dovecot's {@code login_trusted_networks}. */
        IMAP_ID("imap-id", true);

        private final String configName;
        private final boolean inBand;

        ClientIdentity(String configName, boolean inBand) {
            this.configName = configName;
            this.inBand = inBand;
        }

        @Override
        public String configName() {
            return configName;
        }

        /** Whether it is said in the server's own protocol after its greeting. */
        public boolean inBand() {
            return inBand;
        }

        /** Whether a rule of this protocol can use it. */
        public boolean appliesTo(Protocol protocol) {
            return switch (this) {
                case XCLIENT -> protocol == Protocol.SMTP || protocol == Protocol.POP3;
                case IMAP_ID -> protocol == Protocol.IMAP;
                default -> true;
            };
        }

        public static Optional<ClientIdentity> fromConfigName(String word) {
            return ConfigWord.parse(ClientIdentity.class, word);
        }
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
