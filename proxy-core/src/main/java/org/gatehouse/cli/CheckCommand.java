package org.gatehouse.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.tls.TlsContexts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code gatehouse check}: validates a rules file completely, certificates included, without binding anything. */
@Command(name = "check", mixinStandardHelpOptions = true, description = "Validate a rules file (certificates and keys included) and print the effective rules.")
final class CheckCommand implements Callable<Integer> {

    @Mixin
    RulesOption rules;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        RulesSnapshot snapshot = rules.load(TlsContexts.Mode.CHECK, spec.commandLine().getErr());
        if (snapshot == null) {
            return Main.EXIT_INVALID_RULES;
        }
        snapshot.tls().release(); // only checked, never served
        RulesTable.print(snapshot.rules(), out);
        out.println();
        if (snapshot.rules().usesDomains()) {
            out.println(RulesTable.dns(snapshot.rules().dns()));
        }
        out.println(rules.file + ": OK, " + snapshot.rules().enabledRules().size() + " enabled of "
                + snapshot.rules().rules().size() + " rules");
        out.flush();
        return 0;
    }
}
