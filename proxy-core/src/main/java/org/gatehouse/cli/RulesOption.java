package org.gatehouse.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.RulesException;
import org.gatehouse.tls.TlsContexts;
import org.gatehouse.tls.TlsEngine;
import picocli.CommandLine.Option;

/** The {@code --rules FILE} option and the full validation every command makes of that file. */
final class RulesOption {

    /** The installed launcher sets GATEHOUSE_RULES (/etc/gatehouse/publishing-rules.yaml); from a checkout, conf/. */
    static final String DEFAULT = "${env:GATEHOUSE_RULES:-conf/publishing-rules.yaml}";

    @Option(names = {"-r",
            "--rules"}, paramLabel = "FILE", defaultValue = DEFAULT, description = "The publishing-rules file (default: ${DEFAULT-VALUE}).")
    Path file;

    /** Loads the file and builds its TLS contexts; prints every problem and returns null if there is any. */
    RulesSnapshot load(TlsContexts.Mode mode, PrintWriter err) {
        try {
            RulesSnapshot snapshot = RulesSnapshot.load(file, TlsEngine.detect(), mode);
            for (Problem warning : snapshot.warnings()) {
                err.println("warning: " + warning);
            }
            err.flush();
            return snapshot;
        } catch (RulesException e) {
            err.println(file + ": " + (e.problems().size() == 1 ? "1 problem" : e.problems().size() + " problems")
                    + ", nothing was started:");
            for (Problem p : e.problems()) {
                err.println(p);
            }
            err.flush();
            return null;
        }
    }
}
