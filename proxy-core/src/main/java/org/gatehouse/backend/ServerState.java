package org.gatehouse.backend;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.gatehouse.rules.HostPort;

/**
 * One backend server of one rule: whether it is in use, and how many connections through this gateway it has. Kept
 * across reloads for as long as the rule names the server, so that its health and counts (and their gauges) carry on.
 */
public final class ServerState {

    private final HostPort address;
    private final AtomicInteger active = new AtomicInteger();
    private volatile boolean up = true;
    private volatile boolean retired;
    private volatile Instant lastCheck;
    private volatile String lastFailure = "";

    ServerState(HostPort address) {
        this.address = address;
    }

    public HostPort address() {
        return address;
    }

    public boolean up() {
        return up;
    }

    void up(boolean value) {
        up = value;
    }

    /** When a health check last ran on it, if one has (pools with health checks only). */
    public Optional<Instant> lastCheck() {
        return Optional.ofNullable(lastCheck);
    }

    /** Why the last health check failed (the gateway's words), or empty when it passed. */
    public String lastFailure() {
        return lastFailure;
    }

    void checked(Instant when, String failure) {
        lastFailure = failure == null ? "" : failure;
        lastCheck = when;
    }

    /** Connections open to this server now. */
    public int active() {
        return active.get();
    }

    void opened() {
        active.incrementAndGet();
    }

    void closed() {
        active.decrementAndGet();
    }

    /** No rule names the server any more: its gauges read NaN instead of a stale state. */
    boolean retired() {
        return retired;
    }

    void retired(boolean value) {
        retired = value;
    }

    @Override
    public String toString() {
        return address.toString();
    }
}
