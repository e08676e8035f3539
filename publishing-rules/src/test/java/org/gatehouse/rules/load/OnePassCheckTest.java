package org.gatehouse.rules.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gatehouse.rules.RulesException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code check} finds everything in one pass: a rule with a problem still takes part in the checks across rules and
 * in the file checks; positions are exact (tabs too); YAML structure errors read as hints; misspellings get a
 * suggestion.
 */
class OnePassCheckTest {

    @TempDir
    Path dir;

    private List<String> problems(String yaml) throws Exception {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, yaml);
        RulesException e = assertThrows(RulesException.class, () -> RulesLoader.load(file));
        return e.problems().stream().map(p -> p.toString().replace(file.toString(), "rules.yaml")
                .replace(dir.toString(), "DIR")).toList();
    }

    @Test
    void aBrokenRuleStillTakesPartInTheDuplicateAndFileChecks() throws Exception {
        assertThat(problems("""
                certificates:
                  mail: { certificate: missing.crt, privateKey: missing.key }
                rules:
                  - name: pop3s
                    listen: ["127.0.0.1:10995"]
                    protocol: pop3
                    certificate: mail
                    backend: ["127.0.0.1:110"]
                  - name: pop3s
                    listen: ["127.0.0.1:10995"]
                    protocol: pop4
                    certificate: mail
                    backend: ["127.0.0.1:110"]
                """)).containsExactlyInAnyOrder(
                "rules.yaml:2:3: certificates.mail.certificate: file DIR/missing.crt does not exist (used by rule "
                        + "pop3s)",
                "rules.yaml:2:3: certificates.mail.privateKey: file DIR/missing.key does not exist (used by rule "
                        + "pop3s)",
                "rules.yaml:11:15: rules[1].protocol: \"pop4\" (expected pop3, imap, smtp or tcp; did you mean "
                        + "pop3?)",
                "rules.yaml:9:5: rules.pop3s: duplicate rule name \"pop3s\" (first used at line 4)",
                "rules.yaml:9:5: rules.pop3s.listen: rule pop3s (line 4) also listens on 127.0.0.1:10995; two "
                        + "enabled rules cannot share an address and port");
    }

    @Test
    void aTabIsReportedWhereItIs() throws Exception {
        assertThat(problems("rules:\n  - name: a\n\tlisten: [\"127.0.0.1:1\"]\n")).singleElement()
                .satisfies(p -> assertThat(p).startsWith("rules.yaml:3:1: ").contains("a tab"));
    }

    @Test
    void badIndentationGetsAHumanHint() throws Exception {
        assertThat(problems("""
                rules:
                  - name: a
                    listen: ["127.0.0.1:10110"]
                   protocol: pop3
                """)).singleElement().satisfies(p -> assertThat(p).startsWith("rules.yaml:4:")
                .contains("indent").doesNotContain("mapping values are not allowed"));
    }

    @Test
    void aMisspelledKeyGetsADidYouMean() throws Exception {
        assertThat(problems("""
                rules:
                  - name: a
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    backends: ["127.0.0.1:110"]
                """)).anySatisfy(p -> assertThat(p).startsWith("rules.yaml:6:5: rules[0].backends: unknown key "
                + "\"backends\" (did you mean backend?").contains("expected one of"));
    }
}
