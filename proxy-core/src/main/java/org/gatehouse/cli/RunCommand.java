package org.gatehouse.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.gatehouse.demo.Warmup;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.gateway.GatewayException;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.service.Service;
import org.gatehouse.session.Transport;
import org.gatehouse.tls.TlsContexts;
import org.gatehouse.tls.TlsEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

/**
 * {@code gatehouse run}: serves the rules until stopped. SIGHUP reloads the rules file (as do changes to it and
 * {@code POST /-/reload}); SIGTERM or Ctrl-C stops accepting, lets sessions finish for the grace period, then exits 0;
 * a second one exits at once.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run the gateway on a rules file until stopped.")
final class RunCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    RulesOption rules;

    @Spec
    CommandSpec spec;

    @Option(names = "--warmup", paramLabel = "SESSIONS", defaultValue = "${GATEHOUSE_WARMUP:-0}", description = "Before listening, run this many POP3 sessions over TLS through a private loopback gateway, so that the first clients find the code compiled (default: GATEHOUSE_WARMUP, else 0; the package sets 400; at most "
            + Warmup.MAX_SESSIONS + ").")
    int warmup;

    @Override
    public Integer call() throws InterruptedException {
        RulesSnapshot snapshot = rules.load(TlsContexts.Mode.RUN, spec.commandLine().getErr());
        if (snapshot == null) {
            return Main.EXIT_INVALID_RULES;
        }
        if (warmup > 0) {
            Warmup.Result r = Warmup.run(warmup, Transport.detect());
            log.info("warm-up: {} sessions through a private loopback gateway in {} ms ({} failed)", r.completed(),
                    r.millis(), r.failed());
        }
        return serve(snapshot, rules, UnaryOperator.identity(), spec);
    }

    /**
     * Starts the gateway and blocks until the process is asked to stop.
     *
     * @param adapt applied to the rules at start and on every reload (the demo swaps in its own backends)
     */
    static int serve(RulesSnapshot snapshot, RulesOption rules, UnaryOperator<RulesSnapshot> adapt, CommandSpec spec)
            throws InterruptedException {
        // Signals are handled from before the first socket is bound: a SIGHUP that arrives while starting must not
        // end the process (the JVM's default), and a SIGTERM then still stops it.
        AtomicReference<Service> running = new AtomicReference<>();
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        AtomicBoolean reloadWhenStarted = new AtomicBoolean();
        Signal.handle(new Signal("HUP"), s -> {
            Service service = running.get();
            if (service == null) {
                log.info("SIGHUP while starting: will reload once started");
                reloadWhenStarted.set(true);
            } else {
                service.reloader().request("SIGHUP");
            }
        });
        for (String name : new String[]{"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> {
                if (!stopping.compareAndSet(false, true) || running.get() == null) {
                    log.warn("{}SIG{}: exiting now", running.get() == null ? "" : "second ", name);
                    Runtime.getRuntime().halt(0);
                }
                log.info("SIG{}: shutting down gracefully (send it again to exit at once)", name);
                Thread drain = new Thread(() -> {
                    try {
                        running.get().shutdown();
                    } catch (InterruptedException e) {
                        running.get().close();
                    } finally {
                        stopped.countDown();
                    }
                }, "gatehouse-shutdown");
                drain.start();
            });
        }
        try {
            running.set(Service.start(adapt.apply(snapshot),
                    () -> adapt.apply(RulesSnapshot.load(rules.file, TlsEngine.detect(), TlsContexts.Mode.RUN)),
                    rules.file, GatewayMetrics.prometheus(), Transport.detect()));
        } catch (GatewayException e) {
            spec.commandLine().getErr().println("cannot start: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return Main.EXIT_START_FAILED;
        }
        log.info("started: SIGHUP reloads the rules, SIGTERM drains and stops");
        if (reloadWhenStarted.get()) {
            running.get().reloader().request("SIGHUP");
        }
        stopped.await();
        return 0;
    }
}
