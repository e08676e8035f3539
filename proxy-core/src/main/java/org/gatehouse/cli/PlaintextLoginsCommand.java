package org.gatehouse.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.login.PlaintextLogins;
import org.gatehouse.tls.TlsContexts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code gatehouse plaintext-logins}: the audit report. Which clients logged in (audit) or tried to (secure-only) with
 * a clear-text password, as whom, how often and when last: the list to work through before enforcing secure-only.
 */
@Command(name = "plaintext-logins", mixinStandardHelpOptions = true, description = {
        "List the clients that sent a password without TLS: rule, client address, user, refused or audited, "
                + "count, first and last seen (newest first).",
        "Reads the report the running gateway saves in the rules file's stateDir every 10 seconds."})
final class PlaintextLoginsCommand implements Callable<Integer> {

    @Mixin
    RulesOption rules;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        RulesSnapshot snapshot = rules.load(TlsContexts.Mode.CHECK, err);
        if (snapshot == null) {
            return Main.EXIT_INVALID_RULES;
        }
        snapshot.tls().release(); // only the state folder is wanted
        Path file = snapshot.rules().stateDir().resolve(PlaintextLogins.FILE_NAME);
        List<PlaintextLogins.Entry> entries;
        try {
            entries = PlaintextLogins.read(file);
        } catch (IOException | RuntimeException e) {
            err.println(file + ": cannot read the report: " + e.getMessage());
            err.flush();
            return Main.EXIT_INVALID_RULES;
        }
        if (entries.isEmpty()) {
            out.println("No plaintext logins recorded in " + file + ".");
            out.flush();
            return 0;
        }
        String format = "%-20s  %-16s  %-39s  %-24s  %-7s  %-12s  %7s  %-20s%n";
        out.printf(format, "LAST SEEN", "RULE", "CLIENT", "USER", "ACTION", "METHOD", "COUNT", "FIRST SEEN");
        for (PlaintextLogins.Entry e : entries) {
            out.printf(format, e.lastSeen().truncatedTo(ChronoUnit.SECONDS), e.rule(), e.client(), e.user(), e.action(),
                    e.method(), e.count(),
                    e.firstSeen().truncatedTo(ChronoUnit.SECONDS));
        }
        out.println();
        out.println(entries.size() + " entries from " + file);
        out.flush();
        return 0;
    }
}
