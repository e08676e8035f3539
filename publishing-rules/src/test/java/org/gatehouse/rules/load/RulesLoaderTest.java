package org.gatehouse.rules.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gatehouse.rules.AccessDecision;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.LoginPolicy;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.TlsMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RulesLoaderTest {

    @TempDir
    Path dir;

    private static final Path EXAMPLE = Path.of("..", "conf", "examples", "publishing-rules.yaml");

    private PublishingRules load(String yaml) throws Exception {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, yaml);
        return RulesLoader.load(file);
    }

    /** The problems of a file that must be refused, as printed: "rules.yaml:L:C: path: message". */
    private List<String> problems(String yaml) throws Exception {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, yaml);
        RulesException e = org.junit.jupiter.api.Assertions.assertThrows(RulesException.class, () -> RulesLoader.load(file));
        return e.problems().stream().map(p -> p.toString().replace(file.toString(), "rules.yaml")).toList();
    }

    private static final String MINIMAL_RULE = """
            rules:
              - name: plain
                listen: ["127.0.0.1:10110"]
                protocol: pop3
                tls: none
                backend: ["127.0.0.1:110"]
            """;

    @Test
    void acceptsTheExampleFileAsIs() throws Exception {
        Path copy = dir.resolve("publishing-rules.yaml");
        Files.copy(EXAMPLE, copy);

        PublishingRules rules = RulesLoader.load(copy);

        assertThat(rules.stateDir()).isEqualTo(dir.resolve("state").toAbsolutePath());
        assertThat(rules.certificates()).containsOnlyKeys("mail", "bootstrap");
        assertThat(rules.certificates().get("mail")).isEqualTo(new CertificateSource.PemFiles("mail",
                dir.resolve("tls/mail.crt").toAbsolutePath(), dir.resolve("tls/mail.key").toAbsolutePath(),
                rules.certificates().get("mail").position()));
        assertThat(rules.certificates().get("bootstrap")).isInstanceOfSatisfying(CertificateSource.SelfSigned.class,
                s -> assertThat(s.names()).containsExactly("mail.example.test", "localhost"));
        assertThat(rules.clientSets().get("corp").blocks()).hasSize(4);

        assertThat(rules.rules()).extracting(Rule::name).containsExactly("pop3s", "smtps", "imaps");
        assertThat(rules.enabledRules()).extracting(Rule::name).containsExactly("pop3s", "smtps");
        Rule pop3s = rules.rule("pop3s").orElseThrow();
        assertThat(pop3s.listen()).containsExactly(new HostPort("127.0.0.1", 10995), new HostPort("::1", 10995));
        assertThat(pop3s.protocol()).isEqualTo(Protocol.POP3);
        assertThat(pop3s.tls().mode()).isEqualTo(TlsMode.IMPLICIT);
        assertThat(pop3s.tls().certificates()).containsExactly("bootstrap");
        assertThat(pop3s.backends()).containsExactly(new HostPort("127.0.0.1", 110));
        assertThat(pop3s.position().line()).isEqualTo(19);
        assertThat(pop3s.access().decide(InetAddress.getByName("131.107.2.9"))).isEqualTo(AccessDecision.Admitted.ALLOW_LIST);
        assertThat(pop3s.access().decide(InetAddress.getByName("127.0.0.2"))).isEqualTo(AccessDecision.Admitted.ALLOW_LIST);
        assertThat(pop3s.access().decide(InetAddress.getByName("10.66.3.4"))).isInstanceOf(AccessDecision.Denied.class);
        assertThat(pop3s.access().decide(InetAddress.getByName("198.51.100.1"))).isInstanceOf(AccessDecision.Denied.class);
        assertThat(rules.rule("smtps").orElseThrow().access().allowAll()).isTrue();
        assertThat(rules.rule("imaps").orElseThrow().enabled()).isFalse();

        // The "mail" files are absent, which is only worth a warning while no enabled rule uses them.
        assertThat(rules.warnings()).extracting(Problem::path)
                .containsExactly("certificates.mail.certificate", "certificates.mail.privateKey");
        assertThat(rules.warnings().get(0).message()).contains("does not exist").contains("no enabled rule uses");
    }

    @Test
    void stateDirDefaultsToAFolderBesideTheFile() throws Exception {
        assertThat(load(MINIMAL_RULE).stateDir()).isEqualTo(dir.resolve("state").toAbsolutePath());
    }

    @Test
    void yamlSyntaxErrorIsReportedWithPosition() throws Exception {
        assertThat(problems("""
                rules:
                  - name: a
                    listen: ["127.0.0.1:1"
                """)).containsExactly("rules.yaml:3:27: YAML syntax error: while parsing a flow sequence; "
                + "expected ',' or ']', but got <stream end>");
    }

    @Test
    void unknownKeyIsReportedWithTheKeysThatAreExpected() throws Exception {
        assertThat(problems(MINIMAL_RULE.replace("    tls: none\n", "    tls: none\n    backends: [\"x:1\"]\n")))
                .containsExactly("rules.yaml:6:5: rules[0].backends: unknown key \"backends\" (expected one of: access, "
                        + "backend, certificate, challengeResponseWithoutTls, enabled, listen, login, name, protocol, tls)");
    }

    @Test
    void wrongTypesAreReported() throws Exception {
        assertThat(problems("""
                rules:
                  - name: a
                    enabled: "maybe"
                    listen: {address: 1}
                    protocol: [pop3]
                    tls: none
                    backend: ["127.0.0.1:110"]
                """)).containsExactly(
                "rules.yaml:3:14: rules[0].enabled: expected true or false, found a string \"maybe\"",
                "rules.yaml:4:13: rules[0].listen: expected a list of strings, found a map",
                "rules.yaml:5:15: rules[0].protocol: expected a string, found a list");
    }

    @Test
    void unknownWordsSayWhatIsExpected() throws Exception {
        assertThat(problems(MINIMAL_RULE.replace("protocol: pop3", "protocol: pop4").replace("tls: none", "tls: STARTTLS")))
                .containsExactly("rules.yaml:4:15: rules[0].protocol: \"pop4\" (expected pop3, imap, smtp or tcp)",
                        "rules.yaml:5:10: rules[0].tls: \"STARTTLS\" (expected implicit, starttls or none)");
        assertThat(problems(MINIMAL_RULE + "    login: secure\n"))
                .containsExactly("rules.yaml:7:12: rules[0].login: \"secure\" (expected secure-only, audit or plaintext-allowed)");
    }

    @Test
    void loginDefaultsToSecureOnlyWithChallengeResponseAllowed() throws Exception {
        Rule rule = load(MINIMAL_RULE).rules().get(0);

        assertThat(rule.login()).isEqualTo(new LoginSettings(LoginPolicy.SECURE_ONLY, true));
    }

    @Test
    void starttlsRuleWithAuditLogin() throws Exception {
        PublishingRules rules = load("""
                certificates:
                  bootstrap: { selfSigned: [localhost] }
                rules:
                  - name: pop3-starttls
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: starttls
                    certificate: bootstrap
                    login: audit
                    challengeResponseWithoutTls: false
                    backend: ["127.0.0.1:110"]
                """);

        Rule rule = rules.rules().get(0);
        assertThat(rule.tls().mode()).isEqualTo(TlsMode.STARTTLS);
        assertThat(rule.tls().certificates()).containsExactly("bootstrap");
        assertThat(rule.login()).isEqualTo(new LoginSettings(LoginPolicy.AUDIT, false));
    }

    @Test
    void starttlsNeedsACertificate() throws Exception {
        assertThat(problems(MINIMAL_RULE.replace("tls: none", "tls: starttls")))
                .containsExactly("rules.yaml:2:5: rules[0].certificate: is required");
    }

    @Test
    void tcpRulesHaveNeitherStarttlsNorALoginPolicy() throws Exception {
        assertThat(problems("""
                rules:
                  - name: raw
                    listen: ["127.0.0.1:10110"]
                    protocol: tcp
                    tls: starttls
                    login: audit
                    challengeResponseWithoutTls: false
                    backend: ["127.0.0.1:110"]
                """)).containsExactly(
                "rules.yaml:2:5: rules[0].certificate: is required",
                "rules.yaml:5:10: rules[0].tls: \"starttls\" needs a mail protocol to ask for it (expected implicit or none for tcp)",
                "rules.yaml:6:5: rules[0].login: applies to pop3, imap and smtp only: a tcp rule relays bytes without reading logins",
                "rules.yaml:7:5: rules[0].challengeResponseWithoutTls: applies to pop3, imap and smtp only: a tcp rule relays "
                        + "bytes without reading logins");
    }

    @Test
    void challengeResponseOptionIsIgnoredWithAWarningWhenPlaintextIsAllowed() throws Exception {
        PublishingRules rules = load(MINIMAL_RULE + "    login: plaintext-allowed\n    challengeResponseWithoutTls: false\n");

        assertThat(rules.rules().get(0).login().policy()).isEqualTo(LoginPolicy.PLAINTEXT_ALLOWED);
        assertThat(rules.warnings()).extracting(Problem::toString).containsExactly(
                dir.resolve("rules.yaml") + ":8:5: rules[0].challengeResponseWithoutTls: is ignored, since login is plaintext-allowed");
    }

    @Test
    void duplicateRuleNameIsReported() throws Exception {
        assertThat(problems(MINIMAL_RULE + """
                  - name: plain
                    listen: ["127.0.0.1:10111"]
                    protocol: pop3
                    tls: none
                    backend: ["127.0.0.1:110"]
                """)).containsExactly("rules.yaml:7:5: rules.plain: duplicate rule name \"plain\" (first used at line 2)");
    }

    @Test
    void twoEnabledRulesOnTheSameAddressAndPortAreRefused() throws Exception {
        assertThat(problems(MINIMAL_RULE + """
                  - name: other
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    backend: ["127.0.0.1:110"]
                """)).containsExactly("rules.yaml:7:5: rules.other.listen: rule plain (line 2) also listens on "
                + "127.0.0.1:10110; two enabled rules cannot share an address and port");
    }

    @Test
    void aWildcardListenerOverlapsASpecificOneOnTheSamePort() throws Exception {
        assertThat(problems(MINIMAL_RULE + """
                  - name: other
                    listen: ["0.0.0.0:10110"]
                    protocol: pop3
                    tls: none
                    backend: ["127.0.0.1:110"]
                """)).singleElement().asString().contains("listens on 127.0.0.1:10110, which overlaps 0.0.0.0:10110");
    }

    @Test
    void aDisabledRuleMayShareAnAddressWithAnEnabledOne() throws Exception {
        PublishingRules rules = load(MINIMAL_RULE + """
                  - name: later
                    enabled: false
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    backend: ["127.0.0.1:110"]
                """);
        assertThat(rules.enabledRules()).extracting(Rule::name).containsExactly("plain");
    }

    @Test
    void badAddressesAndCidrsAreReportedEachAtItsPlace() throws Exception {
        assertThat(problems("""
                clientSets:
                  corp:
                    addresses: [10.0.0.0/8, "10.0.0.0/33", 300.1.1.1]
                rules:
                  - name: a
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    backend: ["127.0.0.1:110"]
                    access:
                      allow: [corp, 192.0.2.1/24]
                """)).containsExactly(
                "rules.yaml:3:29: clientSets.corp.addresses[1]: \"10.0.0.0/33\" is not an address or CIDR (expected: "
                        + "192.0.2.7, 10.0.0.0/8, 131.107.2.0/255.255.255.0 or 2001:db8::/32)",
                "rules.yaml:3:44: clientSets.corp.addresses[2]: \"300.1.1.1\" is not an address or CIDR (expected: "
                        + "192.0.2.7, 10.0.0.0/8, 131.107.2.0/255.255.255.0 or 2001:db8::/32)",
                "rules.yaml:11:21: rules[0].access.allow[1]: \"192.0.2.1/24\" has bits set after the /24 prefix "
                        + "(expected the network address, such as 192.0.2.0/24)");
    }

    @Test
    void unknownClientSetAndCertificateAreReported() throws Exception {
        assertThat(problems("""
                certificates:
                  boot:
                    selfSigned: [localhost]
                rules:
                  - name: a
                    listen: ["127.0.0.1:10995"]
                    protocol: pop3
                    certificate: mail
                    backend: ["127.0.0.1:110"]
                    access:
                      deny: [partners]
                """)).containsExactly(
                "rules.yaml:8:18: rules[0].certificate: unknown certificate \"mail\" (expected one of: boot)",
                "rules.yaml:11:14: rules[0].access.deny[0]: unknown client set \"partners\" (expected one defined "
                        + "under client sets: there are none, or an address or CIDR such as 10.0.0.0/8)");
    }

    @Test
    void implicitTlsNeedsACertificate() throws Exception {
        assertThat(problems(MINIMAL_RULE.replace("    tls: none\n", "")))
                .containsExactly("rules.yaml:2:5: rules[0].certificate: is required");
    }

    @Test
    void missingOrUnreadableCertificateFilesOfAnEnabledRuleAreRefused() throws Exception {
        Files.writeString(dir.resolve("present.crt"), "not checked here");
        Path unreadable = dir.resolve("secret.key");
        Files.writeString(unreadable, "x");
        boolean canRestrict = unreadable.toFile().setReadable(false, false) && !Files.isReadable(unreadable);
        List<String> found = problems("""
                certificates:
                  mail:
                    certificate: missing.crt
                    privateKey: missing.key
                  other:
                    certificate: present.crt
                    privateKey: secret.key
                rules:
                  - name: a
                    listen: ["127.0.0.1:10995"]
                    protocol: pop3
                    certificate: [mail, other]
                    backend: ["127.0.0.1:110"]
                """);
        assertThat(found).startsWith(
                "rules.yaml:2:3: certificates.mail.certificate: file " + dir.resolve("missing.crt") + " does not exist (used by rule a)",
                "rules.yaml:2:3: certificates.mail.privateKey: file " + dir.resolve("missing.key") + " does not exist (used by rule a)");
        if (canRestrict) {
            // Root reads everything, so this half only runs for an ordinary user.
            assertThat(found).contains("rules.yaml:5:3: certificates.other.privateKey: file " + unreadable
                    + " is not readable by this user (used by rule a)");
        }
    }

    @Test
    void backendWithoutPortIsReported() throws Exception {
        assertThat(problems(MINIMAL_RULE.replace("backend: [\"127.0.0.1:110\"]", "backend: [\"mail.internal\", \"[::1]\"]")))
                .containsExactly(
                        "rules.yaml:6:15: rules[0].backend[0]: \"mail.internal\" has no port (expected: mail.internal:PORT)",
                        "rules.yaml:6:32: rules[0].backend[1]: \"[::1]\" has no port (expected: [::1]:PORT)");
    }

    @Test
    void listenMustBeAnAddressWithAValidPort() throws Exception {
        assertThat(problems(MINIMAL_RULE.replace("[\"127.0.0.1:10110\"]", "[\"mail.example.com:995\", \"127.0.0.1:99999\"]")))
                .containsExactly(
                        "rules.yaml:3:14: rules[0].listen[0]: \"mail.example.com:995\" listens on a host name (expected an IP "
                                + "address: 192.0.2.10:995, [2001:db8::10]:995, 0.0.0.0:995)",
                        "rules.yaml:3:38: rules[0].listen[1]: \"127.0.0.1:99999\" has port 99999 (expected: 0-65535)");
    }

    @Test
    void everyProblemInTheFileIsReportedAtOnceInFileOrder() throws Exception {
        List<String> found = problems("""
                stateDir: ./state
                colour: blue
                rules:
                  - name: "bad name"
                    listen: ["127.0.0.1"]
                    protocol: pop3
                    tls: none
                    backend: ["127.0.0.1"]
                """);
        assertThat(found).containsExactly(
                "rules.yaml:2:1: colour: unknown key \"colour\" (expected one of: certificates, clientSets, rules, stateDir)",
                "rules.yaml:4:11: rules[0].name: rule name \"bad name\" (expected a letter, then letters, digits, '.', '_' "
                        + "or '-', at most 63 characters)",
                "rules.yaml:5:14: rules[0].listen[0]: \"127.0.0.1\" has no port (expected: 127.0.0.1:PORT)",
                "rules.yaml:8:15: rules[0].backend[0]: \"127.0.0.1\" has no port (expected: 127.0.0.1:PORT)");
    }

    @Test
    void duplicateKeysAreReported() throws Exception {
        assertThat(problems(MINIMAL_RULE.replace("    tls: none\n", "    tls: none\n    tls: implicit\n")))
                .containsExactly("rules.yaml:6:5: duplicate key \"tls\" (first written at line 5)");
    }

    @Test
    void emptyOrMissingFileIsReported() throws Exception {
        assertThat(problems("")).containsExactly("rules.yaml:1:1: the file is empty (expected at least a rules: list)");
        assertThatThrownBy(() -> RulesLoader.load(dir.resolve("absent.yaml")))
                .isInstanceOf(RulesException.class).hasMessageContaining("absent.yaml: cannot read the rules file (no such file)");
    }
}
