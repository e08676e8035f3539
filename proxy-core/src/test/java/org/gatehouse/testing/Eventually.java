package org.gatehouse.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waits for something another thread (or process) makes true; the bound is for liveness, never a timing assertion. It
 * is generous because a child JVM's start, on a 2-core machine busy with other builds, took more than 10 s.
 */
public final class Eventually {

    private static final long LIMIT_MILLIS = 30_000;

    private Eventually() {
    }

    public static void until(String what, BooleanSupplier condition) throws InterruptedException {
        until(what, Duration.ofMillis(LIMIT_MILLIS), condition);
    }

    /** With a longer bound, for what waits on another process (a CA validating and issuing). */
    public static void until(String what, Duration limit, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not true after " + limit.toSeconds() + " s: " + what);
            }
            Thread.sleep(10);
        }
    }
}
