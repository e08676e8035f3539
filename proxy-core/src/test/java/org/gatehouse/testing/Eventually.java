package org.gatehouse.testing;

import java.util.function.BooleanSupplier;

/** Waits for something another thread makes true; the bound is for liveness, never a timing assertion. */
public final class Eventually {

    private static final long LIMIT_MILLIS = 10_000;

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
