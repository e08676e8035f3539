package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A whole publishing-rules file, validated: immutable once built, so a running gateway can share one snapshot across
 * threads and swap it for another on reload.
 *
 * @param source       the file it was read from (absolute)
 * @param stateDir     where generated material (self-signed certificates) is kept
 * @param service      the admin endpoint, shutdown grace period and access-log format
 * @param certificates by name, in file order
 * @param clientSets   by name, in file order
 * @param dns          how client names are looked up for domain entries
 * @param rules        in file order, enabled or not
 * @param warnings     things worth telling the operator that do not stop the file from being used
 * @param protection   account protection: each rule's settings and the store
 */
public record PublishingRules(
        Path source,
        Path stateDir,
        ServiceSettings service,
        Map<String, CertificateSource> certificates,
        Map<String, ClientSet> clientSets,
        DnsSettings dns,
        List<Rule> rules,
        List<Problem> warnings,
        AccountProtection protection) {

    public PublishingRules {
        requireNonNull(source, "source");
        requireNonNull(stateDir, "stateDir");
        requireNonNull(service, "service");
        certificates = Collections.unmodifiableMap(new LinkedHashMap<>(certificates));
        clientSets = Collections.unmodifiableMap(new LinkedHashMap<>(clientSets));
        requireNonNull(dns, "dns");
        rules = List.copyOf(rules);
        warnings = List.copyOf(warnings);
        requireNonNull(protection, "protection");
    }

    /** Rules with account protection's defaults. */
    public PublishingRules(Path source, Path stateDir, ServiceSettings service,
            Map<String, CertificateSource> certificates, Map<String, ClientSet> clientSets, DnsSettings dns,
            List<Rule> rules, List<Problem> warnings) {
        this(source, stateDir, service, certificates, clientSets, dns, rules, warnings, AccountProtection.defaults());
    }

    /** The rules that are bound, in file order. */
    public List<Rule> enabledRules() {
        return rules.stream().filter(Rule::enabled).toList();
    }

    /** Whether an enabled rule's access lists name a domain, so that the gateway needs a resolver. */
    public boolean usesDomains() {
        return enabledRules().stream().anyMatch(r -> r.access().usesDomains());
    }

    /** The same rules with {@code backends} swapped per rule (the demo points mail rules at its own servers). */
    public PublishingRules withRules(List<Rule> replaced) {
        return new PublishingRules(source, stateDir, service, certificates, clientSets, dns, replaced, warnings,
                protection);
    }

    public Optional<Rule> rule(String name) {
        return rules.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    /** The certificates that enabled rules use, in file order. */
    public List<CertificateSource> certificatesInUse() {
        var used = new HashSet<String>();
        for (Rule r : enabledRules()) {
            used.addAll(r.tls().certificates());
        }
        return certificates.values().stream().filter(c -> used.contains(c.name())).toList();
    }
}
