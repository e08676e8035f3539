package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * How client names are looked up for domain entries in access lists: reverse DNS (PTR), confirmed forward (A/AAAA),
 * cached.
 *
 * @param servers     recursive resolvers to ask, in order; empty means the system's ({@code /etc/resolv.conf})
 * @param timeout     the whole budget for one client's lookup, PTR and forward queries together
 * @param maxEntries  the most client addresses the cache holds
 * @param maxTtl      the longest a verified name is cached, whatever the records' TTL says
 * @param negativeTtl how long "no name" (NXDOMAIN, no PTR, not confirmed) is cached
 * @param onFailure   what a lookup that fails (timeout, SERVFAIL, no resolver) means for the client
 * @param position    where {@code dns:} was written, or the file's start when it was not
 */
public record DnsSettings(List<HostPort> servers, Duration timeout, int maxEntries, Duration maxTtl,
        Duration negativeTtl, OnFailure onFailure, SourcePosition position) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
    public static final int DEFAULT_MAX_ENTRIES = 100_000;
    public static final Duration DEFAULT_MAX_TTL = Duration.ofHours(1);
    public static final Duration DEFAULT_NEGATIVE_TTL = Duration.ofMinutes(5);

    public DnsSettings {
        servers = List.copyOf(servers);
        requireNonNull(timeout, "timeout");
        requireNonNull(maxTtl, "maxTtl");
        requireNonNull(negativeTtl, "negativeTtl");
        requireNonNull(onFailure, "onFailure");
        requireNonNull(position, "position");
        if (timeout.isZero() || timeout.isNegative() || maxEntries < 1 || maxTtl.isNegative()
                || negativeTtl.isNegative()) {
            throw new IllegalArgumentException("timeout, maxEntries, maxTtl or negativeTtl out of range");
        }
    }

    /** The settings of a file without {@code dns:}. */
    public static DnsSettings defaults(SourcePosition position) {
        return new DnsSettings(List.of(), DEFAULT_TIMEOUT, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TTL, DEFAULT_NEGATIVE_TTL,
                OnFailure.DENY, position);
    }

    /** Whether {@code other} asks for the same lookups, wherever it was written. */
    public boolean sameSettings(DnsSettings other) {
        return equals(new DnsSettings(other.servers, other.timeout, other.maxEntries, other.maxTtl, other.negativeTtl,
                other.onFailure, position));
    }

    /** What a failed lookup means for a client whose admission depends on its name. */
    public enum OnFailure implements ConfigWord {
        /** Refuse the client with a temporary error: fail closed. */
        DENY("deny"),
        /** Decide by the address entries alone, as if the lists named no domain. */
        IGNORE_DOMAIN_RULES("ignore-domain-rules");

        private final String configName;

        OnFailure(String configName) {
            this.configName = configName;
        }

        @Override
        public String configName() {
            return configName;
        }

        public static Optional<OnFailure> fromConfigName(String word) {
            return ConfigWord.parse(OnFailure.class, word);
        }
    }
}
