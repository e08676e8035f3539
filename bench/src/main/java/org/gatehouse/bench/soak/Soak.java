package org.gatehouse.bench.soak;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The soak: a running Gatehouse (started by {@code bench/soak}, with Dovecot and Postfix behind it) under good and
 * hostile traffic at once for a bounded time, its process sampled all along (RSS, heap, direct memory, descriptors,
 * threads, connections) into a CSV and a PNG plot. It fails when a good client fails, or when something the attacks
 * could make grow did not come back or kept growing:
 *
 * <ul>
 *   <li>good clients: POP3S (login, RETR), IMAP with STARTTLS (login, SELECT), submission with STARTTLS (AUTH, one
 *       message), each session within 20 s;</li>
 *   <li>hostile: connect-and-FIN and connect-and-reset floods, garbage instead of TLS or commands, over-long lines, a
 *       STARTTLS slowloris against a rule with a pre-login cap, a backend that never greets, a dead DNS server behind a
 *       domain rule, admin clients that pipeline without reading, trickle headers or send oversized ones, reload
 *       storms (file rewrites, POST /-/reload, SIGHUP) and a reload naming a 300 MB certificate.</li>
 * </ul>
 *
 * Every loop ends at the deadline; every socket has a timeout; the thread pool is fixed.
 */
public final class Soak {

    /** The first part of the run, when the JIT, the heap and the pools settle, is not part of the trend. */
    static final double WARM_UP = 0.2;

    public static void main(String[] args) throws Exception {
        Map<String, String> a = arguments(args);
        Duration duration = parseDuration(a.getOrDefault("duration", "10m"));
        Target target = new Target(Long.parseLong(a.get("pid")), Path.of(a.get("rules")), Path.of(a.get("log")),
                Integer.parseInt(a.get("admin")), ports(a.get("ports")), a.get("user"), a.get("password"),
                Path.of(a.get("huge")), Integer.parseInt(a.get("mute")), Integer.parseInt(a.get("dns")));
        Path out = Files.createDirectories(Path.of(a.getOrDefault("out", "bench/target/soak")));
        System.exit(new Soak(target, duration, out).run() ? 0 : 1);
    }

    /** The gateway under test and where its rules and its neighbours are. */
    record Target(long pid, Path rules, Path log, int adminPort, Map<String, Integer> ports, String user,
            String password, Path hugeCertificate, int mutePort, int deadDnsPort) {
        int port(String rule) {
            Integer p = ports.get(rule);
            if (p == null) {
                throw new IllegalArgumentException("no port for rule " + rule);
            }
            return p;
        }
    }

    private final Target target;
    private final Duration duration;
    private final Path out;

    Soak(Target target, Duration duration, Path out) {
        this.target = target;
        this.duration = duration;
        this.out = out;
    }

    boolean run() throws Exception {
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        Sampler sampler = new Sampler(target, start);
        Sampler.Sample idle = sampler.sample("idle");
        System.out.printf(Locale.ROOT, "soak: %s against pid %d; idle: %s%n", duration, target.pid(), idle);

        GoodClients good = new GoodClients(target);
        Attacks attacks = new Attacks(target);
        long warmEnd = start + (long) (duration.toNanos() * WARM_UP);
        Sampler.Sample warm = load(sampler, good, attacks, warmEnd, end);
        Sampler.Sample last = quiet(sampler);
        if (warm == null) {
            warm = last;
        }
        Path csv = out.resolve("soak.csv");
        Path png = out.resolve("soak.png");
        sampler.writeCsv(csv);
        Plot.write(sampler.samples(), png, duration, (long) (duration.toSeconds() * WARM_UP));
        Verdict verdict = verdict(sampler, good, attacks, idle, warm, last, warmEnd, end);
        Files.writeString(out.resolve("soak-summary.txt"), verdict.report() + "\n" + good.summary() + "\n"
                + attacks.summary() + "\n");
        System.out.println(verdict.report());
        System.out.println(good.summary());
        System.out.println(attacks.summary());
        System.out.println("soak: wrote " + csv + " and " + png);
        return verdict.passed();
    }

    /** Good and hostile traffic until {@code end}, sampled; the sample taken once warm (after GC), or null. */
    private Sampler.Sample load(Sampler sampler, GoodClients good, Attacks attacks, long warmEnd, long end)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(24, r -> {
            Thread t = new Thread(r, "soak");
            t.setDaemon(true);
            return t;
        });
        List<Future<?>> running = new ArrayList<>();
        running.addAll(good.start(pool, end));
        running.addAll(attacks.start(pool, end));
        long interval = Math.max(1_000_000_000L, duration.toNanos() / 400);
        Sampler.Sample warm = null;
        while (System.nanoTime() < end) {
            Thread.sleep(Math.max(1, Math.min(interval, end - System.nanoTime()) / 1_000_000));
            if (warm == null && System.nanoTime() >= warmEnd) {
                sampler.collectGarbage();
                warm = sampler.sample("warm");
                System.out.printf(Locale.ROOT, "soak: warmed up: %s%n", warm);
            } else {
                sampler.sample("load");
            }
        }
        attacks.stop();
        for (Future<?> f : running) {
            try {
                f.get(60, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                f.cancel(true);
            }
        }
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
        return warm;
    }

    /** Quiet: the shed and hung-up connections close, the pre-login and greeting timeouts run out. */
    private static Sampler.Sample quiet(Sampler sampler) throws Exception {
        long quietEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < quietEnd) {
            Thread.sleep(1000);
            sampler.sample("quiet");
        }
        sampler.collectGarbage();
        Sampler.Sample last = sampler.sample("end");
        System.out.printf(Locale.ROOT, "soak: at the end: %s%n", last);
        return last;
    }

    private Verdict verdict(Sampler sampler, GoodClients good, Attacks attacks, Sampler.Sample idle,
            Sampler.Sample warm, Sampler.Sample last, long warmEnd, long end) throws Exception {
        Verdict verdict = new Verdict();
        verdict.check("good clients all served", good.failures() == 0, good.summary());
        verdict.check("good clients of each kind served", good.allKindsServed(), good.summary());
        verdict.check("hostile traffic ran", attacks.total() > 0, attacks.summary());
        verdict.check("hostile traffic met its bounds", attacks.surprises() == 0, attacks.surpriseSummary());
        verdict.check("the gateway is alive", ProcessHandle.of(target.pid()).map(ProcessHandle::isAlive).orElse(false),
                "pid " + target.pid());
        verdict.check("no connection left open", last.connections() == 0, "active " + last.connections());
        verdict.check("no pre-login slot left taken", last.preLogin() == 0, "pre-login " + last.preLogin());
        verdict.check("descriptors came back", last.fds() <= idle.fds() + 30, "idle " + idle.fds() + ", end "
                + last.fds());
        verdict.check("threads came back", last.threads() <= idle.threads() + 12, "idle " + idle.threads() + ", end "
                + last.threads());
        verdict.check("heap after GC came back", last.heap() <= warm.heap() * 1.5 + 32e6,
                mb(warm.heap()) + " when warm (after GC), " + mb(last.heap()) + " at the end (after GC)");
        for (var series : List.of(Sampler.Series.RSS, Sampler.Series.HEAP, Sampler.Series.DIRECT, Sampler.Series.FDS,
                Sampler.Series.THREADS)) {
            Sampler.Trend trend = sampler.trend(series, warmEnd, end);
            verdict.check(series.label() + " does not keep growing", trend.bounded(), trend.toString());
        }
        double failedScrapes = sampler.failedScrapeShare();
        verdict.check("the admin endpoint answered the sampler", failedScrapes <= 0.1,
                String.format(Locale.ROOT, "%.0f%% of scrapes failed", failedScrapes * 100));
        String log = Files.readString(target.log());
        verdict.check("no stack trace and no OutOfMemoryError in the gateway's log",
                !log.contains("\tat ") && !log.contains("OutOfMemoryError"), target.log().toString());
        return verdict;
    }

    static String mb(double bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    /** The checks, each PASS or FAIL with what was seen. */
    static final class Verdict {
        private final StringBuilder report = new StringBuilder();
        private boolean passed = true;

        void check(String what, boolean ok, String seen) {
            passed &= ok;
            report.append(ok ? "PASS  " : "FAIL  ").append(what).append(": ").append(seen).append('\n');
        }

        boolean passed() {
            return passed;
        }

        String report() {
            return report + (passed ? "soak: passed" : "soak: FAILED");
        }
    }

    private static Map<String, String> arguments(String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, found " + args[i]);
            }
            out.put(args[i].substring(2), args[i + 1]);
        }
        return out;
    }

    /** {@code name=port,name=port}. */
    private static Map<String, Integer> ports(String text) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (String pair : text.split(",")) {
            String[] kv = pair.split("=");
            out.put(kv[0].trim(), Integer.parseInt(kv[1].trim()));
        }
        return out;
    }

    /** {@code 90s}, {@code 10m}, {@code 1h}, or seconds. */
    static Duration parseDuration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        }
        char unit = t.charAt(t.length() - 1);
        if (Character.isDigit(unit)) {
            return Duration.ofSeconds(Long.parseLong(t));
        }
        long n = Long.parseLong(t.substring(0, t.length() - 1));
        return switch (unit) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> throw new IllegalArgumentException("not a duration: " + text + " (expected 90s, 10m, 1h)");
        };
    }

    static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void closeQuietly(Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
