package org.gatehouse.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.gatehouse.gateway.Gateway;
import org.gatehouse.gateway.GatewayException;
import org.gatehouse.gateway.RulesSnapshot;
import org.gatehouse.gateway.Transport;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.tls.TlsContexts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code gatehouse run}: serves the rules until stopped (SIGTERM or Ctrl-C). */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run the gateway on a rules file until stopped.")
final class RunCommand implements Callable<Integer> {

    @Mixin
    RulesOption rules;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        RulesSnapshot snapshot = rules.load(TlsContexts.Mode.RUN, spec.commandLine().getErr());
        if (snapshot == null) {
            return Main.EXIT_INVALID_RULES;
        }
        return serve(snapshot, spec);
    }

    /** Starts the gateway and blocks until the process is asked to stop. */
    static int serve(RulesSnapshot snapshot, CommandSpec spec) throws InterruptedException {
        Gateway gateway;
        try {
            gateway = Gateway.start(snapshot, new GatewayMetrics(new SimpleMeterRegistry()), Transport.detect());
        } catch (GatewayException e) {
            spec.commandLine().getErr().println("cannot start: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return Main.EXIT_START_FAILED;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.close();
            stopped.countDown();
        }, "gatehouse-shutdown"));
        stopped.await();
        return 0;
    }
}
