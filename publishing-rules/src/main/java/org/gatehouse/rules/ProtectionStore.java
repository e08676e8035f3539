package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * Where account protection keeps its counters and blocks: in the process (saved in stateDir), or in a Redis or Valkey
 * server that every replica behind one load balancer shares.
 *
 * @param redis     the shared server ({@code redis://host:port}, {@code rediss://...} for TLS); empty: embedded
 * @param failOpen  with a shared server that cannot be reached: true, logins go on with this replica's own counters;
 *                  false, logins get a temporary error until it is back
 * @param key       where the key of the password fingerprints comes from (every replica needs the same); required
 *                  with a shared server
 */
public record ProtectionStore(Optional<String> redis, boolean failOpen, Optional<Secret> key) {

    public ProtectionStore {
        requireNonNull(redis, "redis");
        requireNonNull(key, "key");
    }

    public static ProtectionStore embedded() {
        return new ProtectionStore(Optional.empty(), true, Optional.empty());
    }

    public boolean shared() {
        return redis.isPresent();
    }
}
