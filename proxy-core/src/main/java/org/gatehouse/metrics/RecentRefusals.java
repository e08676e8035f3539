package org.gatehouse.metrics;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The last connections the gateway refused or ended early, newest first, for the status page: a bounded ring, so
 * memory stays the same whatever the clients do. The counters say how many; this says who and when.
 */
public final class RecentRefusals {

    /** Entries kept; older ones fall out. */
    public static final int CAPACITY = 50;

    /**
     * One refusal; {@code client} is an address, {@code outcome} and {@code reason} the gateway's own words (the
     * access log's {@code outcome=} and {@code reason=}).
     */
    public record Refusal(Instant time, String rule, String client, String outcome, String reason) {
    }

    private final Deque<Refusal> ring = new ArrayDeque<>(CAPACITY);

    public void add(Refusal refusal) {
        synchronized (ring) {
            if (ring.size() == CAPACITY) {
                ring.removeLast();
            }
            ring.addFirst(refusal);
        }
    }

    /** Newest first. */
    public List<Refusal> list() {
        synchronized (ring) {
            return new ArrayList<>(ring);
        }
    }
}
