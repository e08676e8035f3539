package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gatehouse.rules.AccountProtection;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.ClientSet;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.ProtectionSettings;
import org.gatehouse.rules.ProtectionStore;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.ServiceSettings;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.ListNode;
import org.gatehouse.rules.load.YamlNode.MapNode;

/**
 * Reads a publishing-rules file into a validated {@link PublishingRules}.
 *
 * <p>Every problem in the file is collected and reported at once, each with file:line:column and the key path; a file
 * with any problem yields no rules at all, so a gateway never starts (or reloads) half-configured.
 *
 * <p>Checks that need cryptography (does the key match the certificate?) are not made here: the model knows where the
 * material is, the gateway's TLS layer loads it and reports against {@link CertificateSource#position()}.
 *
 * <p>Each part of the file has its reader in this package ({@link ServiceSection}, {@link DnsSection},
 * {@link LimitsSection}, {@link CertificatesSection}, {@link ClientSetsSection}, {@link RuleSection} with the TLS, backend
 * and access sections, then {@link CrossRuleChecks}); they share one {@link LoadContext}, which collects the problems.
 */
public final class RulesLoader {

    /** The state folder when the file names none: beside the rules file. */
    public static final String DEFAULT_STATE_DIR = "state";

    /** The top-level keys; {@link #bind} hands each to the section class that reads it. */
    private static final Set<String> TOP_KEYS = Set.of("stateDir", "admin", "shutdownGracePeriod", "accessLog", "dns",
            "limits", "certificates", "clientSets", "rules", "protection");

    private final LoadContext ctx;
    private final NodeReader in;

    private RulesLoader(Path file) {
        this.ctx = new LoadContext(file);
        this.in = ctx.in();
    }

    /** Reads and validates {@code file}. */
    public static PublishingRules load(Path file) throws RulesException {
        String text;
        try {
            byte[] bytes = BoundedFile.read(file, BoundedFile.MAX_RULES_FILE, "a rules file");
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new RulesException(new Problem(SourcePosition.unknown(file.toString()), "", "is not UTF-8 text"));
        } catch (BoundedFile.TooLargeException e) {
            throw new RulesException(
                    new Problem(SourcePosition.unknown(file.toString()), "", "cannot read the rules file: "
                            + e.getMessage()));
        } catch (IOException e) {
            throw new RulesException(new Problem(SourcePosition.unknown(file.toString()), "",
                    "cannot read the rules file (" + describe(e) + ")"));
        }
        return parse(text, file);
    }

    /** Validates {@code text} as if read from {@code file}; relative paths resolve against the file's folder. */
    public static PublishingRules parse(String text, Path file) throws RulesException {
        return new RulesLoader(file).bind(text);
    }

    private PublishingRules bind(String text) throws RulesException {
        YamlNode root = ctx.readTree(text);
        if (NodeReader.isNull(root)) {
            throw new RulesException(
                    new Problem(root.position(), "", "the file is empty (expected at least a rules: list)"));
        }
        MapNode top = in.map(root, "").orElse(null);
        if (top == null) {
            throw ctx.failure();
        }
        in.onlyKeys(top, "", TOP_KEYS);

        ServiceSection serviceSection = new ServiceSection(ctx);
        Path stateDir = serviceSection.stateDir(top);
        ServiceSettings service = serviceSection.read(top);
        Optional<Entry> dnsEntry = in.entry(top, "dns");
        DnsSettings dns = dnsEntry.map(e -> new DnsSection(ctx).read(e.value()))
                .orElse(DnsSettings.defaults(top.position()));
        Limits defaultLimits = in.entry(top, "limits").flatMap(e -> in.map(e.value(), "limits"))
                .map(m -> new LimitsSection(ctx).read(m, "limits", Limits.defaults())).orElse(Limits.defaults());
        CertificatesSection certificatesSection = new CertificatesSection(ctx);
        Map<String, CertificateSource> certificates = in.entry(top, "certificates")
                .map(e -> certificatesSection.read(e.value())).orElse(Map.of());
        Map<String, ClientSet> clientSets = in.entry(top, "clientSets")
                .map(e -> new ClientSetsSection(ctx).read(e.value())).orElse(Map.of());
        ProtectionSection protectionSection = new ProtectionSection(ctx, clientSets);
        Optional<Entry> protectionEntry = in.entry(top, "protection");
        ProtectionSettings protectionDefaults = protectionSection.defaults(protectionEntry);
        ProtectionStore store = protectionSection.store(protectionEntry);
        Map<String, ProtectionSettings> protection = new HashMap<>();
        RuleSection ruleSection = new RuleSection(ctx, certificates, clientSets, defaultLimits);
        List<Rule> rules = rules(top, ruleSection,
                (node, path, rule) -> {
                    ProtectionSettings p = protectionDefaults == null
                            ? null
                            : protectionSection.forRule((MapNode) node, path, rule.protocol(), protectionDefaults);
                    if (p != null) {
                        protection.put(rule.name(), p);
                    }
                });

        // Over every rule with a name, those with problems too: everything is found in one pass.
        CrossRuleChecks checks = new CrossRuleChecks(ctx);
        checks.uniqueNames(ruleSection.outlines());
        checks.listenConflicts(ruleSection.outlines());
        certificatesSection.checkFiles(certificates, ruleSection.outlines());
        if (ctx.hasProblems() || dns == null || service == null || protectionDefaults == null || store == null) {
            throw ctx.failure();
        }
        checks.warnUnusedDns(dnsEntry, rules);
        return new PublishingRules(ctx.file(), stateDir, service, certificates, clientSets, dns, rules,
                ctx.sortedWarnings(), new AccountProtection(protection, store));
    }

    /** What else is read from a rule's own map once the rule read without a problem (its protection). */
    private interface PerRule {
        void read(YamlNode node, String path, Rule rule);
    }

    /** The rules that read without a problem, in file order. */
    private List<Rule> rules(MapNode top, RuleSection ruleSection, PerRule perRule) {
        List<Rule> rules = new ArrayList<>();
        Entry rulesEntry = in.required(top, "", "rules").orElse(null);
        if (rulesEntry != null) {
            if (rulesEntry.value() instanceof ListNode list) {
                for (int i = 0; i < list.items().size(); i++) {
                    YamlNode node = list.items().get(i);
                    String path = index("rules", i);
                    ruleSection.read(node, path).ifPresent(rule -> {
                        rules.add(rule);
                        perRule.read(node, path, rule);
                    });
                }
                if (list.items().isEmpty()) {
                    in.problem(list.position(), "rules", "is empty (expected at least one rule)");
                }
            } else {
                in.problem(rulesEntry.value().position(), "rules", "expected a list of rules, found "
                        + rulesEntry.value().kind());
            }
        }
        return rules;
    }

    private static String describe(IOException e) {
        return e instanceof NoSuchFileException
                ? "no such file"
                : e instanceof AccessDeniedException ? "permission denied" : e.toString();
    }
}
