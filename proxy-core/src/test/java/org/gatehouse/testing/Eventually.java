package org.gatehouse.testing;

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
        long deadline = System.nanoTime() + LIMIT_MILLIS * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not true after " + LIMIT_MILLIS / 1000 + " s: " + what);
            }
            Thread.sleep(10);
        }
    }
}
