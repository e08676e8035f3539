package org.gatehouse.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.Rule;
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
        identityNotes(snapshot, out);
        out.println(rules.file + ": OK, " + snapshot.rules().enabledRules().size() + " enabled of "
                + snapshot.rules().rules().size() + " rules");
        out.flush();
        return 0;
    }

    /**
     * For each rule that tells its servers the client's address in their protocol: what the servers must be set to.
     * check does not connect to backends (it runs before deploys, where they may be down or out of reach), so whether
     * they offer it shows at run time (a log line and gatehouse_backend_client_identity_total).
     */
    private static void identityNotes(RulesSnapshot snapshot, PrintWriter out) {
        for (Rule rule : snapshot.rules().enabledRules()) {
            Backend.ClientIdentity identity = rule.backend().clientIdentity();
            if (identity.inBand()) {
                out.println("note: rule " + rule.name() + ": clientIdentity " + identity.configName()
                        + " needs its servers to trust this gateway's address ("
                        + (rule.protocol() == Protocol.SMTP
                                ? "Postfix: smtpd_authorized_xclient_hosts"
                                : "Dovecot: login_trusted_networks")
                        + "); check does not connect to them: one that does not offer it is logged at run time");
            }
        }
    }
}
