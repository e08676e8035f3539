package org.gatehouse.log;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * The log line that goes with a counter of expected failures at the edge (clients hanging up, out of file descriptors,
 * a backend that never greets, a bound that sheds): the first occurrence of each kind is logged at once, later ones at
 * most once per interval, with how many there were since the previous line. A flood costs a line per interval, never a
 * line (let alone a stack trace) per connection; the counter beside it has the exact figure.
 *
 * <p>Keys and messages are the caller's fixed words and rule names, never client data, so the state stays bounded.
 */
public final class RateLimitedLog {

    /** How often one kind of event may be logged. */
    public static final Duration INTERVAL = Duration.ofSeconds(10);

    private final Logger log;
    private final long intervalNanos;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    public RateLimitedLog(Logger log) {
        this(log, INTERVAL);
    }

    RateLimitedLog(Logger log, Duration interval) {
        this.log = requireNonNull(log, "log");
        this.intervalNanos = interval.toNanos();
    }

    private static final class Window {
        final AtomicLong count = new AtomicLong();
        volatile long lastLogged;
        volatile boolean loggedOnce;
    }

    /** One occurrence of {@code key}: logged as WARN if none was logged for this key within the interval. */
    public void warn(String key, Supplier<String> message) {
        occurred(key, message, true);
    }

    /** As {@link #warn}, at INFO: for what clients do (hang up), not for what the gateway lacks. */
    public void info(String key, Supplier<String> message) {
        occurred(key, message, false);
    }

    private void occurred(String key, Supplier<String> message, boolean warn) {
        Window w = windows.computeIfAbsent(key, k -> new Window());
        w.count.incrementAndGet();
        long now = System.nanoTime();
        long last = w.lastLogged;
        if (w.loggedOnce && now - last < intervalNanos) {
            return;
        }
        synchronized (w) {
            if (w.loggedOnce && now - w.lastLogged < intervalNanos) {
                return;
            }
            long count = w.count.getAndSet(0);
            long seconds = w.loggedOnce ? Math.max(1, (now - w.lastLogged) / 1_000_000_000L) : 0;
            w.lastLogged = now;
            w.loggedOnce = true;
            String line = message.get() + " count=" + count + (seconds == 0 ? "" : " in_last_s=" + seconds);
            if (warn) {
                log.warn(line);
            } else {
                log.info(line);
            }
        }
    }
}
