package org.gatehouse.rules.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.gatehouse.rules.ProtectionSettings;
import org.gatehouse.rules.ProtectionSettings.Mode;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.RulesException;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code protection:} at the top and per rule: defaults, overrides, {@code off}, the store, and every problem. */
class ProtectionSectionTest {

    @TempDir
    Path dir;

    private static final String RULES = """
            rules:
              - name: pop3
                listen: ["127.0.0.1:10110"]
                protocol: pop3
                tls: none
                backend: ["127.0.0.1:110"]
              - name: relay
                listen: ["127.0.0.1:10111"]
                protocol: tcp
                tls: none
                backend: ["127.0.0.1:111"]
            """;

    private PublishingRules load(String yaml) throws Exception {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, yaml);
        return RulesLoader.load(file);
    }

    private List<String> problems(String yaml) throws Exception {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, yaml);
        RulesException e = Assertions.assertThrows(RulesException.class, () -> RulesLoader.load(file));
        return e.problems().stream().map(p -> p.toString().replace(file.toString(), "rules.yaml")).toList();
    }

    private static ProtectionSettings of(PublishingRules rules, String rule) {
        return rules.protection().forRule(rules.rule(rule).orElseThrow());
    }

    @Test
    void mailRulesAreProtectedWithTheDefaultsAndTcpRulesAreNot() throws Exception {
        PublishingRules rules = load(RULES);
        assertThat(of(rules, "pop3")).isEqualTo(ProtectionSettings.defaults());
        assertThat(of(rules, "pop3").unfamiliarFailures()).isEqualTo(3);
        assertThat(of(rules, "relay").enabled()).isFalse();
        assertThat(rules.protection().store().shared()).isFalse();
    }

    @Test
    void theTopLevelSetsEveryMailRulesDefaultsAndARuleOverridesKeyByKey() throws Exception {
        PublishingRules rules = load("""
                clientSets:
                  office: { addresses: [10.0.0.0/8] }
                protection:
                  mode: report
                  window: 1h
                  blockDuration: 5m
                  addressFailures: 20
                  addressUsers: 3
                  lockoutThreshold: 10
                  tarpit: { initialDelay: 100ms, maxDelay: 1s }
                  familiarAddresses: { perUser: 4, for: 7d }
                  exempt: [office, 192.0.2.1]
                """ + RULES.replace("    backend: [\"127.0.0.1:110\"]\n",
                "    backend: [\"127.0.0.1:110\"]\n    protection: { mode: enforce, addressUsers: 8 }\n"));
        ProtectionSettings p = of(rules, "pop3");
        assertThat(p.mode()).isEqualTo(Mode.ENFORCE);
        assertThat(p.addressUsers()).isEqualTo(8);
        assertThat(p.window()).isEqualTo(Duration.ofHours(1));
        assertThat(p.blockDuration()).isEqualTo(Duration.ofMinutes(5));
        assertThat(p.addressFailures()).isEqualTo(20);
        assertThat(p.unfamiliarFailures()).isEqualTo(8);
        assertThat(p.tarpitInitial()).isEqualTo(Duration.ofMillis(100));
        assertThat(p.tarpitMax()).isEqualTo(Duration.ofSeconds(1));
        assertThat(p.familiarPerUser()).isEqualTo(4);
        assertThat(p.familiarFor()).isEqualTo(Duration.ofDays(7));
        assertThat(p.exempt().addresses().contains(new byte[]{10, 1, 2, 3})).isTrue();
        assertThat(p.exempt().addresses().contains(new byte[]{(byte) 192, 0, 2, 1})).isTrue();
    }

    @Test
    void offTurnsItOffAtTheTopOrPerRule() throws Exception {
        assertThat(of(load("protection: off\n" + RULES), "pop3").enabled()).isFalse();
        assertThat(of(load(RULES.replace("    backend: [\"127.0.0.1:110\"]\n",
                "    backend: [\"127.0.0.1:110\"]\n    protection: off\n")), "pop3").enabled()).isFalse();
    }

    @Test
    void aSharedStoreNeedsAKeyAndSaysHowToFail() throws Exception {
        PublishingRules rules = load("""
                protection:
                  store: { redis: "redis://127.0.0.1:6379", onFailure: closed, key: { env: GATEHOUSE_KEY } }
                """ + RULES);
        assertThat(rules.protection().store().redis()).contains("redis://127.0.0.1:6379");
        assertThat(rules.protection().store().failOpen()).isFalse();
        assertThat(problems("protection:\n  store: { redis: \"redis://127.0.0.1:6379\" }\n" + RULES))
                .containsExactly("rules.yaml:2:10: protection.store.key: is required with redis (expected"
                        + " { env: VARIABLE } or { file: PATH }: the key of the password fingerprints, the same on"
                        + " every replica)");
    }

    @Test
    void everyProblemIsReportedAtItsPlace() throws Exception {
        assertThat(problems("""
                protection:
                  mode: observe
                  window: 10
                  addressUsers: 0
                  lockoutThreshold: 2
                  tarpit: { initialDelay: 5s, maxDelay: 1s, jitter: 1s }
                  exempt: [nowhere]
                  store: { redis: "127.0.0.1:6379", onFailure: maybe }
                """ + RULES.replace("    protocol: tcp\n", "    protocol: tcp\n    protection: off\n")))
                .containsExactly(
                        "rules.yaml:2:9: protection.mode: \"observe\" (expected enforce, report or off)",
                        "rules.yaml:3:11: protection.window: \"10\" is not a duration (expected a number and a unit: 500ms, 2s,"
                                + " 5m, 1h, 1d)",
                        "rules.yaml:4:17: protection.addressUsers: 0 is out of range (expected 1 to 100000)",
                        "rules.yaml:5:21: protection.lockoutThreshold: 2 is out of range (expected 3 to 100000)",
                        "rules.yaml:6:45: protection.tarpit.jitter: unknown key \"jitter\" (expected one of: initialDelay,"
                                + " maxDelay)",
                        "rules.yaml:7:12: protection.exempt[0]: unknown client set \"nowhere\" (expected one defined under"
                                + " client sets: there are none, or an address or CIDR such as 10.0.0.0/8)",
                        "rules.yaml:8:19: protection.store.redis: \"127.0.0.1:6379\" is not a Redis address (expected"
                                + " redis://host:port or rediss://host:port)",
                        "rules.yaml:8:48: protection.store.onFailure: \"maybe\" (expected open: logins go on with this"
                                + " replica's counters, or closed: logins get a temporary error while the store cannot be"
                                + " reached)",
                        "rules.yaml:18:5: rules[1].protection: applies to pop3, imap and smtp only: a tcp rule relays bytes"
                                + " without reading logins");
        assertThat(problems("protection: { tarpit: { initialDelay: 5s, maxDelay: 1s } }\n" + RULES)).containsExactly(
                "rules.yaml:1:23: protection.tarpit: maxDelay 1s is shorter than initialDelay 5s (expected maxDelay"
                        + " >= initialDelay)");
    }
}
