package org.gatehouse.cli;

import java.util.concurrent.Callable;
import org.gatehouse.demo.Warmup;
import org.gatehouse.session.Transport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gatehouse warmup}: the warm-up of {@code run --warmup} on its own, then exit. The launcher runs it once under
 * {@code -XX:ArchiveClassesAtExit} to build the class-data sharing archive that later starts map instead of loading
 * and verifying every class (docs/adr/0006-the-first-minute.md).
 */
@Command(name = "warmup", mixinStandardHelpOptions = true, description = "Run POP3 sessions over TLS through a private loopback gateway and exit: the training run of the class-data archive the gatehouse command builds.")
final class WarmupCommand implements Callable<Integer> {

    @Option(names = "--sessions", paramLabel = "N", defaultValue = "200", description = "How many sessions (default 200, at most "
            + Warmup.MAX_SESSIONS + ").")
    int sessions;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        Warmup.Result r = Warmup.run(sessions, Transport.detect());
        spec.commandLine().getOut().printf("warm-up: %d sessions in %d ms, %d failed%n", r.completed(), r.millis(),
                r.failed());
        spec.commandLine().getOut().flush();
        return r.completed() > 0 ? 0 : 1;
    }
}
