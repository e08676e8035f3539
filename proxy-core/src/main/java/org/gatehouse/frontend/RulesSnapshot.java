package org.gatehouse.frontend;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.gatehouse.log.LineEncoder;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.load.RulesLoader;
import org.gatehouse.tls.TlsContexts;
import org.gatehouse.tls.TlsEngine;

/**
 * Everything a new connection needs to know, validated as a whole: the rules and the TLS contexts built from them.
 * A connection reads the current snapshot once, when it is accepted, and keeps it.
 */
public record RulesSnapshot(PublishingRules rules, TlsContexts tls) {

    public RulesSnapshot {
        requireNonNull(rules, "rules");
        requireNonNull(tls, "tls");
    }

    /** Everything worth telling the operator about these rules: the file's warnings, then the certificates'. */
    public List<Problem> warnings() {
        List<Problem> all = new ArrayList<>(rules.warnings());
        all.addAll(tls.warnings());
        return all;
    }

    /**
     * Reads, validates and builds the TLS contexts of {@code file}: everything or a {@link RulesException}. To run, the
     * log takes the file's format at once, so that even the lines about its certificates are in it.
     */
    public static RulesSnapshot load(Path file, TlsEngine engine, TlsContexts.Mode mode) throws RulesException {
        PublishingRules rules = RulesLoader.load(file);
        if (mode == TlsContexts.Mode.RUN) {
            LineEncoder.use(rules.service().accessLogFormat());
        }
        return new RulesSnapshot(rules, TlsContexts.build(rules, engine, mode));
    }
}
