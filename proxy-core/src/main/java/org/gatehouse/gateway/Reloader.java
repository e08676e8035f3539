package org.gatehouse.gateway;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.load.BoundedFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the rules file into a running {@link Gateway}: on request (SIGHUP, {@code POST /-/reload}) and when the
 * file's folder changes (which also catches a Kubernetes ConfigMap's symlink swap), after a short quiet period.
 *
 * <p>The new file is loaded and validated completely (certificates included) before anything changes; an invalid file,
 * or an address that cannot be bound, leaves the gateway on its old rules, with every problem logged as
 * file:line:column. Reloads run one at a time on their own thread, never on an event loop.
 *
 * <p>Meters: {@code gatehouse.config.reloads} by {@code result} (success, failure) and
 * {@code gatehouse.config.last.reload.success.time} (seconds since the epoch; the start counts as the first) and
 * {@code gatehouse.config.last.reload.successful} (1, or 0 while the file on disk is one that was refused).
 */
public final class Reloader implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Reloader.class);

    /** Loads and validates the rules file, certificates included; the demo wraps it to keep its own backends. */
    @FunctionalInterface
    public interface Source {
        RulesSnapshot load() throws RulesException;
    }

    /** How a reload ended; {@code problems} are file:line:column lines when it failed. */
    public record Outcome(boolean success, String summary, List<String> problems) {
        public Outcome {
            requireNonNull(summary, "summary");
            problems = List.copyOf(problems);
        }
    }

    private final Gateway gateway;
    private final Source source;
    private final Path file;
    private final ScheduledExecutorService executor;
    private final Counter successes;
    private final Counter failures;
    private final AtomicLong lastSuccessSeconds = new AtomicLong(System.currentTimeMillis() / 1000);
    /** 1 while the rules in service are the file's (the start, or the last reload, succeeded), 0 after a refusal. */
    private final AtomicInteger lastReloadSuccessful = new AtomicInteger(1);
    private byte[] loadedDigest; // confined to the executor's thread
    private ScheduledFuture<?> pendingFileReload; // confined to the executor's thread
    private WatchService watcher;

    /**
     * @param file the rules file, whose folder is watched and whose content decides whether a change is real
     */
    public Reloader(Gateway gateway, Source source, Path file, MeterRegistry registry) {
        this.gateway = requireNonNull(gateway, "gateway");
        this.source = requireNonNull(source, "source");
        this.file = requireNonNull(file, "file").toAbsolutePath().normalize();
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "gatehouse-reload");
            t.setDaemon(true);
            return t;
        });
        this.successes = Counter.builder("gatehouse.config.reloads").description("Rules-file reloads, by result")
                .tag("result", "success").register(registry);
        this.failures = Counter.builder("gatehouse.config.reloads").description("Rules-file reloads, by result")
                .tag("result", "failure").register(registry);
        Gauge.builder("gatehouse.config.last.reload.success.time", lastSuccessSeconds, AtomicLong::get)
                .baseUnit("seconds").description("When the rules last loaded successfully (start or reload), Unix time")
                .register(registry);
        Gauge.builder("gatehouse.config.last.reload.successful", lastReloadSuccessful, AtomicInteger::get)
                .description("1 if the last load of the rules file (start or reload) succeeded, 0 if it was refused")
                .register(registry);
        executor.execute(() -> loadedDigest = digest(readOrNull()));
    }

    /** Reloads now (after any reload under way); {@code trigger} says who asked, for the log. */
    public CompletableFuture<Outcome> request(String trigger) {
        return CompletableFuture.supplyAsync(() -> reload(trigger), executor);
    }

    private Outcome reload(String trigger) {
        byte[] content = readOrNull();
        RulesSnapshot next;
        try {
            next = source.load();
        } catch (RulesException e) {
            return failed(trigger, e.problems().size() + " problem(s) in " + file,
                    e.problems().stream().map(Problem::toString).toList());
        } catch (RuntimeException e) {
            return failed(trigger, "cannot load " + file + " (" + e + ")", List.of());
        }
        Gateway.Changes changes;
        try {
            changes = gateway.apply(next);
        } catch (GatewayException e) {
            return failed(trigger, e.getMessage(), List.of());
        }
        loadedDigest = digest(content);
        successes.increment();
        lastReloadSuccessful.set(1);
        lastSuccessSeconds.set(System.currentTimeMillis() / 1000);
        for (Problem warning : next.warnings()) {
            log.warn("warning: {}", warning);
        }
        boolean same = changes.added().isEmpty() && changes.removed().isEmpty() && changes.changedRules().isEmpty();
        String summary = same
                ? "no rule changed"
                : "listeners added=" + changes.added() + " removed="
                        + changes.removed() + " rules changed=" + changes.changedRules();
        log.info("reloaded trigger={} rules={}: {}", trigger, file, summary);
        return new Outcome(true, summary, List.of());
    }

    private Outcome failed(String trigger, String summary, List<String> problems) {
        failures.increment();
        lastReloadSuccessful.set(0);
        log.warn("reload refused trigger={} rules={}: {}; still serving the rules loaded before", trigger, file,
                summary);
        for (String p : problems) {
            log.warn("  {}", p);
        }
        return new Outcome(false, summary, problems);
    }

    /**
     * Watches the rules file's folder; a change to the file (or to the symlink it is reached through) reloads once
     * nothing more has changed for {@code quiet}, and only if the file's content differs from what was last loaded.
     * Other files in the folder are ignored, so that a busy neighbour (a log written there, say) neither costs a
     * wake-up per write nor postpones a reload forever.
     */
    public void watch(Duration quiet) throws IOException {
        watcher = FileSystems.getDefault().newWatchService();
        file.getParent().register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
        Thread thread = new Thread(() -> {
            try {
                while (true) {
                    WatchKey key = watcher.take();
                    boolean relevant = false;
                    for (WatchEvent<?> event : key.pollEvents()) {
                        relevant |= event.kind() == StandardWatchEventKinds.OVERFLOW
                                || event.context() instanceof Path name && concernsRulesFile(name);
                    }
                    key.reset();
                    if (relevant) {
                        executor.execute(() -> {
                            if (pendingFileReload != null) {
                                pendingFileReload.cancel(false);
                            }
                            pendingFileReload = executor.schedule(this::reloadIfChanged, quiet.toMillis(),
                                    TimeUnit.MILLISECONDS);
                        });
                    }
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                // closed: stop watching
            }
        }, "gatehouse-rules-watch");
        thread.setDaemon(true);
        thread.start();
        log.info("watching {} for changes to {}", file.getParent(), file.getFileName());
    }

    /**
     * Whether a change to this entry of the folder can change what the rules file reads: the file itself, the first
     * step of a relative symlink it is (a ConfigMap's {@code ..data}), or any of the kubelet's {@code ..} entries.
     */
    boolean concernsRulesFile(Path name) {
        if (name.equals(file.getFileName()) || name.toString().startsWith("..")) {
            return true;
        }
        try {
            Path target = Files.readSymbolicLink(file);
            return !target.isAbsolute() && target.getNameCount() > 0 && name.equals(target.getName(0));
        } catch (IOException | UnsupportedOperationException e) {
            return false; // not a symlink (or gone for a moment): only the file's own name counts
        }
    }

    private void reloadIfChanged() {
        byte[] content = readOrNull();
        if (content == null) {
            log.debug("{} is not readable now (being replaced?); waiting for the next change", file);
            return;
        }
        if (!Arrays.equals(digest(content), loadedDigest)) {
            reload("file-change");
        }
    }

    /**
     * The rules file's bytes for the change check, or null while it cannot be read; a file over the rules-file bound is
     * not read (an empty array stands for it, which differs from what was loaded, so the reload says why it is refused).
     */
    private byte[] readOrNull() {
        try {
            return BoundedFile.read(file, BoundedFile.MAX_RULES_FILE, "a rules file");
        } catch (BoundedFile.TooLargeException e) {
            return new byte[0];
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] digest(byte[] content) {
        if (content == null) {
            return new byte[0];
        }
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (watcher != null) {
            try {
                watcher.close();
            } catch (IOException e) {
                log.debug("closing the rules watcher: {}", e.toString());
            }
        }
        executor.shutdownNow();
    }
}
