package org.gatehouse.rules.load;

import java.util.List;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.SourcePosition;

/**
 * What the checks across rules need of a rule, read even when another part of it has a problem: so a duplicate name,
 * a shared listen address or a missing certificate file is reported in the same pass as the rule's own problems.
 *
 * @param certificates the certificate names it uses, as far as they could be read
 */
record RuleOutline(String name, boolean enabled, List<HostPort> listen, List<String> certificates,
        SourcePosition position) {

    RuleOutline {
        listen = List.copyOf(listen);
        certificates = List.copyOf(certificates);
    }
}
