package org.gatehouse.gateway;

import static java.util.Objects.requireNonNull;

import org.gatehouse.rules.PublishingRules;
import org.gatehouse.tls.TlsContexts;

/**
 * Everything a new connection needs to know, validated as a whole: the rules and the TLS contexts built from them.
 * A connection reads the current snapshot once, when it is accepted, and keeps it.
 */
public record RulesSnapshot(PublishingRules rules, TlsContexts tls) {

    public RulesSnapshot {
        requireNonNull(rules, "rules");
        requireNonNull(tls, "tls");
    }
}
