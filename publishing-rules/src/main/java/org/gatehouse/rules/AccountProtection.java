package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * The file's account protection: each rule's settings and the store they share.
 *
 * @param byRule every rule's settings, by rule name (tcp rules are off)
 */
public record AccountProtection(Map<String, ProtectionSettings> byRule, ProtectionStore store) {

    public AccountProtection {
        byRule = Map.copyOf(byRule);
        requireNonNull(store, "store");
    }

    /** Defaults for every mail rule (the settings of a file written before account protection existed). */
    public static AccountProtection defaults() {
        return new AccountProtection(Map.of(), ProtectionStore.embedded());
    }

    /** A rule's settings; a rule not listed is treated as off unless it is a mail rule. */
    public ProtectionSettings forRule(Rule rule) {
        ProtectionSettings s = byRule.get(rule.name());
        if (s != null) {
            return s;
        }
        return rule.protocol().isMail() ? ProtectionSettings.defaults() : ProtectionSettings.off();
    }
}
