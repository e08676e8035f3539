package org.gatehouse.backend;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.gatehouse.rules.Backend;

/**
 * One rule's backend servers as a connection sees them: {@link #candidates()} gives the servers to try, in order,
 * healthy ones only, by the rule's {@code balance}; {@link #opened} and {@link #closed} keep the counts that
 * {@code least-connections} balances by.
 */
public final class BackendPool {

    private final String rule;
    private final Backend settings;
    private final List<ServerState> servers;
    private final AtomicInteger next = new AtomicInteger();
    private volatile HealthChecker checker;

    BackendPool(String rule, Backend settings, List<ServerState> servers) {
        this.rule = requireNonNull(rule, "rule");
        this.settings = requireNonNull(settings, "settings");
        this.servers = List.copyOf(servers);
    }

    public String rule() {
        return rule;
    }

    public Backend settings() {
        return settings;
    }

    /** Every server of the pool, in the order written, up or not. */
    public List<ServerState> servers() {
        return servers;
    }

    /** The servers a new connection tries, in order; empty when health checks have taken every one out. */
    public List<ServerState> candidates() {
        List<ServerState> healthy = new ArrayList<>(servers.size());
        for (ServerState s : servers) {
            if (s.up()) {
                healthy.add(s);
            }
        }
        if (healthy.size() <= 1) {
            return healthy;
        }
        return switch (settings.balance()) {
            case FIRST -> healthy;
            case ROUND_ROBIN -> {
                int start = Math.floorMod(next.getAndIncrement(), healthy.size());
                List<ServerState> rotated = new ArrayList<>(healthy.size());
                rotated.addAll(healthy.subList(start, healthy.size()));
                rotated.addAll(healthy.subList(0, start));
                yield rotated;
            }
            case LEAST_CONNECTIONS -> {
                healthy.sort(Comparator.comparingInt(ServerState::active)); // stable: ties keep the written order
                yield healthy;
            }
        };
    }

    /** A connection to {@code server} was established. */
    public void opened(ServerState server) {
        server.opened();
    }

    /** A connection to {@code server} ended. */
    public void closed(ServerState server) {
        server.closed();
    }

    /** The health checker of this pool, if it has one. */
    void checker(HealthChecker healthChecker) {
        this.checker = healthChecker;
    }

    /**
     * {@code server} accepted a client's connection and did not greet in time: where the pool has health checks, that
     * counts as a failed check (so {@code fall} of them take it out); without, every server stays in use.
     */
    public void greetingTimedOut(ServerState server, String why) {
        HealthChecker c = checker;
        if (c != null) {
            c.failedElsewhere(server, why);
        }
    }
}
