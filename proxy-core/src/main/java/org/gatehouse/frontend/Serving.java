package org.gatehouse.frontend;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Optional;
import org.gatehouse.access.ConnectionLimits;
import org.gatehouse.backend.BackendPool;
import org.gatehouse.dns.ClientNames;
import org.gatehouse.protection.AccountGuard;

/**
 * What new connections are served with, swapped as one by a reload: the rules and TLS contexts, each rule's backend
 * pool, and where client names come from. A connection reads it once, at accept.
 *
 * @param limits   the connection counts per rule; the same object across reloads
 * @param accounts account protection's counters and blocks; the same object across reloads
 */
public record Serving(RulesSnapshot snapshot, Map<String, BackendPool> pools, ClientNames names,
        ConnectionLimits limits, AccountGuard accounts) {

    public Serving {
        requireNonNull(snapshot, "snapshot");
        pools = Map.copyOf(pools);
        requireNonNull(names, "names");
        requireNonNull(limits, "limits");
        requireNonNull(accounts, "accounts");
    }

    public Optional<BackendPool> pool(String rule) {
        return Optional.ofNullable(pools.get(rule));
    }
}
