package org.gatehouse.rules.load;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.load.YamlNode.Entry;

/** Checks that look at all rules at once: unique names, listen addresses no two rules share, dns settings no rule needs. */
final class CrossRuleChecks {

    private final LoadContext ctx;
    private final NodeReader in;

    CrossRuleChecks(LoadContext ctx) {
        this.ctx = ctx;
        this.in = ctx.in();
    }

    void uniqueNames(List<RuleOutline> rules) {
        Map<String, RuleOutline> seen = new HashMap<>();
        for (RuleOutline r : rules) {
            RuleOutline first = seen.putIfAbsent(r.name(), r);
            if (first != null) {
                in.problem(r.position(), "rules." + r.name(),
                        "duplicate rule name \"" + r.name() + "\" (first used at line "
                                + first.position().line() + ")");
            }
        }
    }

    /**
     * Two enabled rules may not listen on the same IP:port, nor on a wildcard address (0.0.0.0, ::) and a specific one
     * with the same port: the operating system would refuse the second bind, and which rule serves a client would be
     * ambiguous. Port 0 (a free port chosen at bind time) never conflicts.
     */
    void listenConflicts(List<RuleOutline> rules) {
        record Bound(RuleOutline rule, HostPort address) {
        }
        List<Bound> bound = new ArrayList<>();
        for (RuleOutline r : rules) {
            if (!r.enabled()) {
                continue;
            }
            for (HostPort hp : r.listen()) {
                if (hp.port() == 0) {
                    continue;
                }
                for (Bound b : bound) {
                    if (b.rule() != r && b.address().port() == hp.port() && overlaps(b.address(), hp)) {
                        String what = b.address().equals(hp)
                                ? "also listens on " + hp
                                : "listens on " + b.address() + ", which overlaps " + hp;
                        in.problem(r.position(), "rules." + r.name() + ".listen", "rule " + b.rule().name() + " (line "
                                + b.rule().position().line() + ") " + what
                                + "; two enabled rules cannot share an address and port");
                    }
                }
                bound.add(new Bound(r, hp));
            }
        }
    }

    private static boolean overlaps(HostPort a, HostPort b) {
        InetAddress x = a.literalAddress().orElseThrow();
        InetAddress y = b.literalAddress().orElseThrow();
        if (x.equals(y)) {
            return true;
        }
        // An IPv6 wildcard socket also takes IPv4 connections (dual stack), so it overlaps everything.
        boolean xv6Any = x.isAnyLocalAddress() && x.getAddress().length == 16;
        boolean yv6Any = y.isAnyLocalAddress() && y.getAddress().length == 16;
        if (xv6Any || yv6Any) {
            return true;
        }
        boolean sameFamily = x.getAddress().length == y.getAddress().length;
        return sameFamily && (x.isAnyLocalAddress() || y.isAnyLocalAddress());
    }

    /** dns written in the file but never needed, since no enabled rule's access lists name a domain: a warning. */
    void warnUnusedDns(Optional<Entry> dnsEntry, List<Rule> rules) {
        boolean usesDomains = rules.stream().anyMatch(r -> r.enabled() && r.access().usesDomains());
        if (dnsEntry.isPresent() && !usesDomains) {
            ctx.warn(dnsEntry.get().keyPosition(), "dns",
                    "is not used: no enabled rule's access lists name a domain, so no lookup is ever made");
        }
    }
}
