package org.gatehouse.rules.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.gatehouse.rules.AccessDecision;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.LoginPolicy;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.ServiceSettings;
import org.gatehouse.rules.SmtpSettings;
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
        RulesException e = org.junit.jupiter.api.Assertions.assertThrows(RulesException.class,
                () -> RulesLoader.load(file));
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
        assertThat(pop3s.access().decide(InetAddress.getByName("131.107.2.9")))
                .isEqualTo(AccessDecision.Admitted.ALLOW_LIST);
        assertThat(pop3s.access().decide(InetAddress.getByName("127.0.0.2")))
                .isEqualTo(AccessDecision.Admitted.ALLOW_LIST);
        assertThat(pop3s.access().decide(InetAddress.getByName("10.66.3.4"))).isInstanceOf(AccessDecision.Denied.class);
        assertThat(pop3s.access().decide(InetAddress.getByName("198.51.100.1")))
                .isInstanceOf(AccessDecision.Denied.class);
        assertThat(rules.rule("smtps").orElseThrow().access().allowAll()).isTrue();
        assertThat(rules.rule("imaps").orElseThrow().enabled()).isFalse();

        // The "mail" files are absent, which is only worth a warning while no enabled rule uses them.
        assertThat(rules.warnings()).extracting(Problem::path)
                .containsExactly("certificates.mail.certificate", "certificates.mail.privateKey");
        assertThat(rules.warnings().get(0).message()).contains("does not exist").contains("no enabled rule uses");
    }

    @Test
    void aStateDirThatCannotBeWrittenIsAProblemAtItsPositionAndTheDefaultOneAtTheTop() throws Exception {
        Files.writeString(dir.resolve("blocked"), "a file, not a folder");
        assertThat(problems("stateDir: blocked/state\n" + MINIMAL_RULE)).containsExactly("rules.yaml:1:11: stateDir: "
                + dir.resolve("blocked/state") + " cannot be written: " + dir.resolve("blocked")
                + " is not a folder; the plaintext-login report and generated certificates are kept there (expected"
                + " a folder the gateway's user may write, such as /var/lib/gatehouse)");

        Files.writeString(dir.resolve("state"), "a file where the default state folder would be");
        assertThat(problems(MINIMAL_RULE)).singleElement().asString()
                .startsWith("rules.yaml:1:1: stateDir: " + dir.resolve("state") + " (the default, beside the rules"
                        + " file) cannot be written: " + dir.resolve("state") + " is not a folder");
    }

    @Test
    void secureChannelIsReadAndRequiredNeedsAWayToTls() throws Exception {
        assertThat(load(MINIMAL_RULE).rules().get(0).login().secureChannel())
                .isEqualTo(LoginSettings.SecureChannel.AUDIT);
        assertThat(problems("""
                rules:
                  - name: a
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    secureChannel: required
                    backend: ["127.0.0.1:110"]
                  - name: b
                    listen: ["127.0.0.1:10111"]
                    protocol: pop3
                    tls: none
                    secureChannel: sometimes
                    backend: ["127.0.0.1:110"]
                  - name: c
                    listen: ["127.0.0.1:10112"]
                    protocol: tcp
                    tls: none
                    secureChannel: audit
                    backend: ["127.0.0.1:110"]
                """)).containsExactly(
                "rules.yaml:6:20: rules[0].secureChannel: required needs tls: starttls (or implicit): with tls: none"
                        + " no client could ever start TLS, so every mail transaction and login would be refused",
                "rules.yaml:12:20: rules[1].secureChannel: \"sometimes\" (expected off, audit or required)",
                "rules.yaml:18:5: rules[2].secureChannel: applies to pop3, imap and smtp only: a tcp rule relays"
                        + " bytes without reading commands");
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
                """)).containsExactly("rules.yaml:3:27: a [ list is not closed with ], or two of its items lack a "
                + "comma between them (the one opened at line 3, column 13)");
    }

    @Test
    void smtpBareLineEndingsDefaultToRejectAndCanNormalize() throws Exception {
        String smtp = MINIMAL_RULE.replace("protocol: pop3", "protocol: smtp");
        assertThat(RulesLoader.parse(smtp, dir.resolve("rules.yaml")).rules().get(0).smtp().bareLineEndings())
                .isEqualTo(SmtpSettings.BareLineEndings.REJECT);
        String normalize = smtp + "    smtp: {bareLineEndings: normalize}\n";
        assertThat(RulesLoader.parse(normalize, dir.resolve("rules.yaml")).rules().get(0).smtp().bareLineEndings())
                .isEqualTo(SmtpSettings.BareLineEndings.NORMALIZE);
    }

    @Test
    void smtpSettingsAreCheckedWithTheirPosition() throws Exception {
        String smtp = MINIMAL_RULE.replace("protocol: pop3", "protocol: smtp");
        assertThat(problems(smtp + "    smtp: {bareLineEndings: strip}\n")).containsExactly(
                "rules.yaml:7:29: rules[0].smtp.bareLineEndings: \"strip\" (expected reject or normalize)");
        assertThat(problems(smtp + "    smtp: {bareLinefeeds: reject}\n")).containsExactly(
                "rules.yaml:7:12: rules[0].smtp.bareLinefeeds: unknown key \"bareLinefeeds\" (expected one of: "
                        + "bareLineEndings)");
        assertThat(problems(MINIMAL_RULE + "    smtp: {bareLineEndings: reject}\n")).containsExactly(
                "rules.yaml:7:5: rules[0].smtp: applies to smtp rules only (this rule is pop3)");
    }

    @Test
    void unknownKeyIsReportedWithTheKeysThatAreExpected() throws Exception {
        assertThat(problems(MINIMAL_RULE.replace("    tls: none\n", "    tls: none\n    backends: [\"x:1\"]\n")))
                .containsExactly("rules.yaml:6:5: rules[0].backends: unknown key \"backends\" (did you mean backend? "
                        + "expected one of: acceptProxyProtocol, access, backend, certificate, "
                        + "challengeResponseWithoutTls, ciphers, clientCertificate, enabled, limits, listen, login, name, "
                        + "protection, protocol, protocols, publicName, secureChannel, smtp, tls, tlsPolicy, transparent)");
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
        assertThat(problems(
                MINIMAL_RULE.replace("protocol: pop3", "protocol: pop4").replace("tls: none", "tls: STARTTLS")))
                .containsExactly(
                        "rules.yaml:4:15: rules[0].protocol: \"pop4\" (expected pop3, imap, smtp or tcp; did you mean pop3?)",
                        "rules.yaml:5:10: rules[0].tls: \"STARTTLS\" (expected implicit, starttls or none; did you mean starttls?)");
        assertThat(problems(MINIMAL_RULE + "    login: secure\n"))
                .containsExactly(
                        "rules.yaml:7:12: rules[0].login: \"secure\" (expected secure-only, audit or plaintext-allowed)");
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
        PublishingRules rules = load(
                MINIMAL_RULE + "    login: plaintext-allowed\n    challengeResponseWithoutTls: false\n");

        assertThat(rules.rules().get(0).login().policy()).isEqualTo(LoginPolicy.PLAINTEXT_ALLOWED);
        assertThat(rules.warnings()).extracting(Problem::toString).containsExactly(
                dir.resolve("rules.yaml")
                        + ":8:5: rules[0].challengeResponseWithoutTls: is ignored, since login is plaintext-allowed");
    }

    @Test
    void duplicateRuleNameIsReported() throws Exception {
        assertThat(problems(MINIMAL_RULE + """
                  - name: plain
                    listen: ["127.0.0.1:10111"]
                    protocol: pop3
                    tls: none
                    backend: ["127.0.0.1:110"]
                """))
                .containsExactly("rules.yaml:7:5: rules.plain: duplicate rule name \"plain\" (first used at line 2)");
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
                "rules.yaml:2:3: certificates.mail.certificate: file " + dir.resolve("missing.crt")
                        + " does not exist (used by rule a)",
                "rules.yaml:2:3: certificates.mail.privateKey: file " + dir.resolve("missing.key")
                        + " does not exist (used by rule a)");
        if (canRestrict) {
            // Root reads everything, so this half only runs for an ordinary user.
            assertThat(found).contains("rules.yaml:5:3: certificates.other.privateKey: file " + unreadable
                    + " is not readable by this user (used by rule a)");
        }
    }

    @Test
    void backendWithoutPortIsReported() throws Exception {
        assertThat(problems(
                MINIMAL_RULE.replace("backend: [\"127.0.0.1:110\"]", "backend: [\"mail.internal\", \"[::1]\"]")))
                .containsExactly(
                        "rules.yaml:6:15: rules[0].backend[0]: \"mail.internal\" has no port (expected: mail.internal:PORT)",
                        "rules.yaml:6:32: rules[0].backend[1]: \"[::1]\" has no port (expected: [::1]:PORT)");
    }

    @Test
    void listenMustBeAnAddressWithAValidPort() throws Exception {
        assertThat(problems(
                MINIMAL_RULE.replace("[\"127.0.0.1:10110\"]", "[\"mail.example.com:995\", \"127.0.0.1:99999\"]")))
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
                "rules.yaml:2:1: colour: unknown key \"colour\" (expected one of: accessLog, admin, certificates, clientSets, dns, limits, protection, rules, shutdownGracePeriod, stateDir)",
                "rules.yaml:4:11: rules[0].name: rule name \"bad name\" (expected a letter, then letters, digits, '.', '_' "
                        + "or '-', at most 63 characters)",
                "rules.yaml:5:14: rules[0].listen[0]: \"127.0.0.1\" has no port (expected: 127.0.0.1:PORT)",
                "rules.yaml:8:15: rules[0].backend[0]: \"127.0.0.1\" has no port (expected: 127.0.0.1:PORT)");
    }

    private static final String DOMAIN_RULE = """
              - name: partners-only
                listen: ["127.0.0.1:10110"]
                protocol: pop3
                tls: none
                backend: ["127.0.0.1:110"]
                access:
                  allow: [partners]
            """;

    @Test
    void clientSetsHoldDomainsAddressesOrBoth() throws Exception {
        PublishingRules rules = load("""
                clientSets:
                  partners:
                    domains: [Contoso.COM, partner.example.]
                    addresses: [198.51.100.0/24]
                  dialup:
                    domains: dialup.example
                rules:
                """ + DOMAIN_RULE.replace("allow: [partners]\n", "allow: [partners]\n      deny: [dialup]\n"));

        assertThat(rules.clientSets().get("partners").domains().domains()).containsExactly("contoso.com",
                "partner.example");
        assertThat(rules.clientSets().get("dialup").blocks()).isEmpty();
        Rule rule = rules.rule("partners-only").orElseThrow();
        assertThat(rule.access().allow().domains().domains()).containsExactly("contoso.com", "partner.example");
        assertThat(rule.access().deny().domains().domains()).containsExactly("dialup.example");
        assertThat(rule.access().decide(InetAddress.getByName("198.51.100.4")))
                .isEqualTo(AccessDecision.Pending.NAME_REQUIRED);
        assertThat(rules.usesDomains()).isTrue();
        assertThat(rules.dns()).isEqualTo(DnsSettings.defaults(rules.dns().position()));
        assertThat(rules.warnings()).isEmpty();
    }

    @Test
    void dnsSettingsAreReadWithUnits() throws Exception {
        PublishingRules rules = load("""
                dns:
                  servers: ["127.0.0.1:5353", 192.0.2.53, "[::1]:53", "2001:db8::53"]
                  timeout: 1500ms
                  cache: { maxEntries: 5000, maxTtl: 1h30m, negativeTtl: 0s }
                  onFailure: ignore-domain-rules
                clientSets:
                  partners:
                    domains: [contoso.com]
                rules:
                """ + DOMAIN_RULE);

        DnsSettings dns = rules.dns();
        assertThat(dns.servers()).containsExactly(new HostPort("127.0.0.1", 5353), new HostPort("192.0.2.53", 53),
                new HostPort("::1", 53), new HostPort("2001:db8::53", 53));
        assertThat(dns.timeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(dns.maxEntries()).isEqualTo(5000);
        assertThat(dns.maxTtl()).isEqualTo(Duration.ofMinutes(90));
        assertThat(dns.negativeTtl()).isZero();
        assertThat(dns.onFailure()).isEqualTo(DnsSettings.OnFailure.IGNORE_DOMAIN_RULES);
        assertThat(dns.position().line()).isEqualTo(2);
    }

    @Test
    void badDnsSettingsAreReportedEachAtItsPlace() throws Exception {
        assertThat(problems("""
                dns:
                  servers: [dns.example, "127.0.0.1:0"]
                  timeout: 2
                  cache: { maxEntries: 0, maxTtl: 1 hour, negativeTtl: 8d }
                  onFailure: allow
                  retries: 3
                clientSets:
                  partners:
                    domains: [contoso.com]
                rules:
                """ + DOMAIN_RULE)).containsExactly(
                "rules.yaml:2:13: dns.servers[0]: \"dns.example\" has no port (expected: dns.example:PORT)",
                "rules.yaml:2:26: dns.servers[1]: \"127.0.0.1:0\" has port 0 (expected: 1-65535)",
                "rules.yaml:3:12: dns.timeout: \"2\" is not a duration (expected a number and a unit: 500ms, 2s, 5m, 1h, 1d)",
                "rules.yaml:4:24: dns.cache.maxEntries: 0 is out of range (expected 1 to 10000000)",
                "rules.yaml:4:35: dns.cache.maxTtl: \"1 hour\" is not a duration (expected a number and a unit: 500ms, 2s, "
                        + "5m, 1h, 1d)",
                "rules.yaml:4:56: dns.cache.negativeTtl: 8d is out of range (expected 0s to 24h)",
                "rules.yaml:5:14: dns.onFailure: \"allow\" (expected deny or ignore-domain-rules)",
                "rules.yaml:6:3: dns.retries: unknown key \"retries\" (expected one of: cache, onFailure, servers, timeout)");
    }

    @Test
    void dnsNamedByRulesWithoutDomainsIsAWarning() throws Exception {
        PublishingRules rules = load("dns:\n  timeout: 1s\n" + MINIMAL_RULE);

        assertThat(rules.usesDomains()).isFalse();
        assertThat(rules.warnings())
                .extracting(p -> p.toString().replace(dir.resolve("rules.yaml").toString(), "rules.yaml"))
                .containsExactly(
                        "rules.yaml:1:1: dns: is not used: no enabled rule's access lists name a domain, so no "
                                + "lookup is ever made");
    }

    @Test
    void badDomainsAndDomainsOutsideClientSetsAreReported() throws Exception {
        assertThat(problems("""
                clientSets:
                  partners:
                    domains: ["*.contoso.com", 192.0.2.0/24, bad_name.example]
                  empty:
                    addresses: []
                rules:
                """ + DOMAIN_RULE.replace("allow: [partners]", "allow: [partners, contoso.com]"))).containsExactly(
                "rules.yaml:3:15: clientSets.partners.domains[0]: \"*.contoso.com\" has a wildcard (expected contoso.com, "
                        + "which already covers every name under it)",
                "rules.yaml:3:32: clientSets.partners.domains[1]: \"192.0.2.0/24\" is an address, not a domain (expected "
                        + "it under addresses)",
                "rules.yaml:3:46: clientSets.partners.domains[2]: \"bad_name.example\" is not a domain name (expected: "
                        + "contoso.com)",
                "rules.yaml:5:5: clientSets.empty: has neither addresses nor domains (expected at least one of them)",
                "rules.yaml:13:25: rules[0].access.allow[1]: \"contoso.com\" is not a client set; a domain goes in a client "
                        + "set, which this list then names (expected clientSets: {partners: {domains: [contoso.com]}} and "
                        + "partners here)");
    }

    @Test
    void aTopLevelDomainIsAcceptedWithAWarning() throws Exception {
        PublishingRules rules = load("""
                clientSets:
                  partners:
                    domains: [example]
                rules:
                """ + DOMAIN_RULE);

        assertThat(rules.warnings()).singleElement().satisfies(w -> assertThat(w.toString())
                .endsWith("clientSets.partners.domains[0]: \"example\" is a top-level domain: every client whose name "
                        + "ends in .example matches"));
    }

    @Test
    void serviceSettingsDefaultToLoopbackAdminThirtySecondsAndLogfmt() throws Exception {
        PublishingRules rules = load(MINIMAL_RULE);

        assertThat(rules.service()).isEqualTo(ServiceSettings.defaults());
        assertThat(rules.service().admin()).hasValue(new HostPort("127.0.0.1", 9102));
    }

    @Test
    void serviceSettingsAreRead() throws Exception {
        PublishingRules rules = load("""
                admin: { listen: "[::1]:9200" }
                shutdownGracePeriod: 2m
                accessLog: { format: json }
                """ + MINIMAL_RULE);

        assertThat(rules.service()).isEqualTo(new ServiceSettings(Optional.of(new HostPort("::1", 9200)),
                Duration.ofMinutes(2), ServiceSettings.AccessLogFormat.JSON));
        assertThat(load("admin: { enabled: false }\n" + MINIMAL_RULE).service().admin()).isEmpty();
    }

    @Test
    void anAdminEndpointOffLoopbackIsAWarningAndBadServiceSettingsAreProblems() throws Exception {
        PublishingRules open = load("admin: { listen: \"0.0.0.0:9102\" }\n" + MINIMAL_RULE);
        assertThat(open.warnings()).singleElement().satisfies(w -> assertThat(w.toString())
                .contains("admin.listen: listens on 0.0.0.0:9102, not on loopback"));

        assertThat(problems("""
                admin: { listen: "localhost:9102", port: 1 }
                shutdownGracePeriod: 2h
                accessLog: { format: xml }
                """ + MINIMAL_RULE)).containsExactly(
                "rules.yaml:1:18: admin.listen: \"localhost:9102\" listens on a host name (expected an IP address: "
                        + "192.0.2.10:995, [2001:db8::10]:995, 0.0.0.0:995)",
                "rules.yaml:1:36: admin.port: unknown key \"port\" (expected one of: enabled, listen, readOnlyListen)",
                "rules.yaml:2:22: shutdownGracePeriod: 2h is out of range (expected 0s to 1h)",
                "rules.yaml:3:22: accessLog.format: \"xml\" (expected logfmt or json)");
    }

    @Test
    void theShortBackendFormIsAListTriedInOrder() throws Exception {
        Rule rule = load(MINIMAL_RULE).rules().get(0);

        assertThat(rule.backend()).isEqualTo(Backend.of(List.of(new HostPort("127.0.0.1", 110))));
        assertThat(rule.limits()).isEqualTo(Limits.defaults());
        assertThat(rule.acceptProxyProtocol()).isEmpty();
    }

    @Test
    void aBackendPoolWithHealthChecksAndProxyProtocol() throws Exception {
        Rule rule = load(MINIMAL_RULE.replace("    backend: [\"127.0.0.1:110\"]\n", """
                    backend:
                      servers: ["10.0.0.5:110", "10.0.0.6:110"]
                      balance: round-robin
                      connectTimeout: 2s
                      healthCheck: { interval: 5s, timeout: 1s, rise: 1, fall: 2 }
                      sendProxyProtocol: v2
                    acceptProxyProtocol: { from: [10.0.0.0/8] }
                    transparent: true
                """)).rules().get(0);

        assertThat(
                rule.backend()).isEqualTo(
                        new Backend(List.of(new HostPort("10.0.0.5", 110), new HostPort("10.0.0.6", 110)),
                                Backend.Balance.ROUND_ROBIN, Duration.ofSeconds(2),
                                Optional.of(new Backend.HealthCheck(
                                        Duration.ofSeconds(5), Duration.ofSeconds(1), 1, 2)),
                                Backend.ProxyProtocol.V2, true));
        assertThat(rule.acceptProxyProtocol().orElseThrow().addresses().contains(new byte[]{10, 1, 2, 3})).isTrue();
        assertThat(load(MINIMAL_RULE.replace("    backend: [\"127.0.0.1:110\"]\n",
                "    backend: { servers: [\"127.0.0.1:110\"], healthCheck: {} }\n")).rules().get(0).backend()
                .healthCheck())
                .hasValue(Backend.HealthCheck.DEFAULT);
    }

    @Test
    void clientIdentityNamesEveryWayAndMapsOntoTheOlderKeys() throws Exception {
        String pool = "    backend: { servers: [\"127.0.0.1:110\"], clientIdentity: %s }\n";
        Backend xclient = load(MINIMAL_RULE.replace("    backend: [\"127.0.0.1:110\"]\n", pool.formatted("xclient")))
                .rules().get(0).backend();
        assertThat(xclient.inBandIdentity()).isEqualTo(Backend.ClientIdentity.XCLIENT);
        assertThat(xclient.clientIdentity()).isEqualTo(Backend.ClientIdentity.XCLIENT);
        Backend v2 = load(MINIMAL_RULE.replace("    backend: [\"127.0.0.1:110\"]\n", pool.formatted("proxy-v2")))
                .rules().get(0).backend();
        assertThat(v2.sendProxyProtocol()).isEqualTo(Backend.ProxyProtocol.V2);
        assertThat(v2.clientIdentity()).isEqualTo(Backend.ClientIdentity.PROXY_V2);
        Backend transparent = load(MINIMAL_RULE.replace("    backend: [\"127.0.0.1:110\"]\n",
                pool.formatted("transparent"))).rules().get(0).backend();
        assertThat(transparent.transparent()).isTrue();
        assertThat(transparent.clientIdentity()).isEqualTo(Backend.ClientIdentity.TRANSPARENT);
        Backend imapId = load(MINIMAL_RULE.replace("protocol: pop3", "protocol: imap")
                .replace("    backend: [\"127.0.0.1:110\"]\n", pool.formatted("imap-id"))).rules().get(0).backend();
        assertThat(imapId.inBandIdentity()).isEqualTo(Backend.ClientIdentity.IMAP_ID);
        assertThat(load(MINIMAL_RULE).rules().get(0).backend().clientIdentity()).isEqualTo(Backend.ClientIdentity.NONE);
    }

    @Test
    void clientIdentityThatDoesNotFitTheProtocolOrRepeatsTheProxyHeaderIsRefusedAtItsPlace() throws Exception {
        assertThat(problems("""
                rules:
                  - name: a
                    listen: ["127.0.0.1:10143"]
                    protocol: imap
                    tls: none
                    backend: { servers: ["127.0.0.1:143"], clientIdentity: xclient }
                  - name: b
                    listen: ["127.0.0.1:10025"]
                    protocol: tcp
                    tls: none
                    backend: { servers: ["127.0.0.1:25"], clientIdentity: imap-id }
                  - name: c
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    backend: { servers: ["127.0.0.1:110"], sendProxyProtocol: v1, clientIdentity: proxy-v2 }
                  - name: d
                    listen: ["127.0.0.1:10111"]
                    protocol: pop3
                    tls: none
                    backend: { servers: ["127.0.0.1:110"], clientIdentity: xclient-v2 }
                """)).containsExactly(
                "rules.yaml:6:60: rules[0].backend.clientIdentity: xclient does not apply to imap rules (expected "
                        + "xclient for smtp and pop3, imap-id for imap, or none, proxy-v1, proxy-v2, transparent)",
                "rules.yaml:11:59: rules[1].backend.clientIdentity: imap-id does not apply to tcp rules (expected "
                        + "none, proxy-v1, proxy-v2 or transparent: a tcp server has no protocol to say it in)",
                "rules.yaml:16:44: rules[2].backend.sendProxyProtocol: and clientIdentity both say how the server "
                        + "learns the client (expected one of them: clientIdentity: proxy-v1 or proxy-v2 replaces "
                        + "sendProxyProtocol)",
                "rules.yaml:21:60: rules[3].backend.clientIdentity: \"xclient-v2\" (expected none, proxy-v1, proxy-v2, "
                        + "transparent, xclient or imap-id; did you mean xclient?)");
    }

    @Test
    void limitsSetForTheFileApplyToEveryRuleUnlessARuleOverridesThem() throws Exception {
        PublishingRules rules = load("""
                limits: { maxConnections: 500, connectionRatePerClient: 60/min, idleTimeout: 2m }
                rules:
                  - name: a
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    backend: ["127.0.0.1:110"]
                  - name: b
                    listen: ["127.0.0.1:10111"]
                    protocol: imap
                    tls: none
                    backend: ["127.0.0.1:143"]
                    limits: { maxConnectionsPerClient: 20, connectionRatePerClient: 10/s, handshakeTimeout: 5s }
                """);

        assertThat(rules.rule("a").orElseThrow().limits()).isEqualTo(new Limits(500, 0,
                Optional.of(new Limits.Rate(60, Duration.ofMinutes(1))), Limits.DEFAULT_HANDSHAKE_TIMEOUT,
                Optional.of(Duration.ofMinutes(2))));
        assertThat(rules.rule("b").orElseThrow().limits()).isEqualTo(new Limits(500, 20,
                Optional.of(new Limits.Rate(10, Duration.ofSeconds(1))), Duration.ofSeconds(5),
                Optional.of(Duration.ofMinutes(2))));
        assertThat(Limits.defaults().idleTimeoutFor(Protocol.IMAP)).hasValue(Duration.ofMinutes(30));
        assertThat(Limits.defaults().idleTimeoutFor(Protocol.TCP)).isEmpty();
    }

    @Test
    void badBackendLimitAndProxySettingsAreReportedEachAtItsPlace() throws Exception {
        assertThat(problems("""
                clientSets:
                  partners: { domains: [contoso.com] }
                rules:
                  - name: a
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    backend:
                      servers: ["10.0.0.5:110", "10.0.0.5:110"]
                      balance: random
                      healthCheck: { interval: 1s, timeout: 2s }
                      sendProxyProtocol: v3
                    limits: { maxConnections: -1, connectionRatePerClient: 60 per minute }
                    acceptProxyProtocol: { from: [partners] }
                """)).containsExactly(
                "rules.yaml:9:33: rules[0].backend.servers[1]: 10.0.0.5:110 is listed twice",
                "rules.yaml:10:16: rules[0].backend.balance: \"random\" (expected round-robin, least-connections or first)",
                "rules.yaml:11:20: rules[0].backend.healthCheck: timeout 2000 ms is longer than interval 1000 ms (expected a "
                        + "timeout shorter than the interval)",
                "rules.yaml:12:26: rules[0].backend.sendProxyProtocol: \"v3\" (expected off, v1 or v2)",
                "rules.yaml:13:31: rules[0].limits.maxConnections: -1 is out of range (expected 0 to 10000000)",
                "rules.yaml:13:60: rules[0].limits.connectionRatePerClient: \"60 per minute\" is not a rate (expected a count "
                        + "per unit: 60/min, 10/s, 1000/h, or off)",
                "rules.yaml:14:26: rules[0].acceptProxyProtocol.from: names domains (contoso.com), which would need reverse "
                        + "DNS of the load balancer (expected addresses only)");
    }

    @Test
    void aRulesFileOverItsSizeBoundIsRefusedWithoutBeingRead() throws Exception {
        Path huge = dir.resolve("huge.yaml");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(300L * 1024 * 1024); // sparse: no disk used
        }
        assertThatThrownBy(() -> RulesLoader.load(huge)).isInstanceOf(RulesException.class)
                .hasMessageContaining(huge + ": cannot read the rules file: " + huge
                        + " is 300 MiB, more than a rules file may be (4 MiB)");
        assertThatThrownBy(() -> RulesLoader.load(Path.of("/dev/zero"))).isInstanceOf(RulesException.class)
                .hasMessageContaining("/dev/zero is not a regular file");
    }

    @Test
    void certificateAndPassphraseFilesOverTheirSizeBoundsAreProblemsAtTheCertificate() throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("huge.crt").toFile(), "rw")) {
            f.setLength(300L * 1024 * 1024);
        }
        Files.writeString(dir.resolve("mail.key"), "not checked here");
        Files.writeString(dir.resolve("passphrase.txt"), "x".repeat(5000));
        Files.writeString(dir.resolve("ca.pem"), "y".repeat(1024 * 1024 + 1));
        String rules = """
                certificates:
                  mail:
                    certificate: huge.crt
                    privateKey: mail.key
                    passphrase: { file: passphrase.txt }
                rules:
                  - name: a
                    listen: ["127.0.0.1:10995"]
                    protocol: pop3
                    certificate: mail
                    backend: ["127.0.0.1:110"]
                """;
        assertThat(problems(rules)).containsExactly(
                "rules.yaml:2:3: certificates.mail.certificate: " + dir.resolve("huge.crt")
                        + " is 300 MiB, more than a "
                        + "certificate or key file may be (1 MiB) (used by rule a)",
                "rules.yaml:2:3: certificates.mail.passphrase.file: " + dir.resolve("passphrase.txt") + " is 4.9 KiB, "
                        + "more than a passphrase file may be (4 KiB) (used by rule a)");
        Files.writeString(dir.resolve("passphrase.txt"), "fits");
        Files.writeString(dir.resolve("mail.crt"), "not checked here");
        assertThat(problems(rules.replace("huge.crt", "mail.crt").replace("    backend:",
                "    clientCertificate: { mode: require, trust: ca.pem }\n    backend:"))).containsExactly(
                        "rules.yaml:11:48: rules[0].clientCertificate.trust: " + dir.resolve("ca.pem")
                                + " is 1.0 MiB, more "
                                + "than a CA certificate file may be (1 MiB)");
    }

    @Test
    void preLoginLimitsAndTheGreetingTimeoutHaveDefaultsAndAreRead() throws Exception {
        Rule plain = load(MINIMAL_RULE).rules().get(0);
        assertThat(plain.limits().maxPreLoginConnections()).isEqualTo(50);
        assertThat(plain.limits().preLoginIdleTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(plain.backend().greetingTimeout()).isEqualTo(Duration.ofSeconds(15));

        PublishingRules rules = load("""
                limits: { maxPreLoginConnections: 20, preLoginIdleTimeout: 30s }
                rules:
                  - name: a
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    backend: { servers: ["127.0.0.1:110"], greetingTimeout: 5s }
                  - name: b
                    listen: ["127.0.0.1:10111"]
                    protocol: imap
                    tls: none
                    backend: ["127.0.0.1:143"]
                    limits: { maxPreLoginConnections: 0, preLoginIdleTimeout: 0s }
                """);
        Limits a = rules.rule("a").orElseThrow().limits();
        assertThat(a.maxPreLoginConnections()).isEqualTo(20);
        assertThat(a.preLoginIdleTimeoutIfSet()).hasValue(Duration.ofSeconds(30));
        assertThat(rules.rule("a").orElseThrow().backend().greetingTimeout()).isEqualTo(Duration.ofSeconds(5));
        Limits b = rules.rule("b").orElseThrow().limits();
        assertThat(b.maxPreLoginConnections()).isZero();
        assertThat(b.preLoginIdleTimeoutIfSet()).isEmpty();
        assertThat(rules.warnings()).isEmpty();
    }

    @Test
    void badPreLoginLimitsAndGreetingTimeoutsAreReportedAndTcpRulesIgnoreThem() throws Exception {
        assertThat(problems("""
                rules:
                  - name: a
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    backend: { servers: ["127.0.0.1:110"], greetingTimeout: 10m }
                    limits: { maxPreLoginConnections: -5, preLoginIdleTimeout: 60 }
                """)).containsExactly(
                "rules.yaml:6:61: rules[0].backend.greetingTimeout: 10m is out of range (expected 1s to 5m)",
                "rules.yaml:7:39: rules[0].limits.maxPreLoginConnections: -5 is out of range (expected 0 to 10000000)",
                "rules.yaml:7:64: rules[0].limits.preLoginIdleTimeout: \"60\" is not a duration (expected a number and a "
                        + "unit: 500ms, 2s, 5m, 1h, 1d)");

        PublishingRules tcp = load("""
                rules:
                  - name: t
                    listen: ["127.0.0.1:10110"]
                    protocol: tcp
                    tls: none
                    backend: { servers: ["127.0.0.1:110"], greetingTimeout: 5s }
                    limits: { maxPreLoginConnections: 5 }
                """);
        assertThat(tcp.warnings()).extracting(Object::toString).containsExactly(
                tcp.source() + ":6:44: rules[0].backend.greetingTimeout: is ignored: a tcp server need not greet",
                tcp.source()
                        + ":7:15: rules[0].limits.maxPreLoginConnections: is ignored: it applies to pop3, imap and "
                        + "smtp, whose clients log in");
    }

    @Test
    void aReadOnlyAdminListenerIsReadAndMustDifferFromTheAdminOne() throws Exception {
        PublishingRules rules = load("admin: { listen: \"127.0.0.1:9102\", readOnlyListen: \"0.0.0.0:9103\" }\n"
                + MINIMAL_RULE);
        assertThat(rules.service().readOnlyAdmin()).hasValue(new HostPort("0.0.0.0", 9103));
        assertThat(rules.warnings()).isEmpty();
        assertThat(load(MINIMAL_RULE).service().readOnlyAdmin()).isEmpty();

        assertThat(
                problems("admin: { listen: \"127.0.0.1:9102\", readOnlyListen: \"127.0.0.1:9102\" }\n" + MINIMAL_RULE))
                .containsExactly(
                        "rules.yaml:1:52: admin.readOnlyListen: 127.0.0.1:9102 is where admin.listen serves every "
                                + "endpoint (expected another address or port)");
        PublishingRules off = load("admin: { enabled: false, readOnlyListen: \"0.0.0.0:9103\" }\n" + MINIMAL_RULE);
        assertThat(off.service().readOnlyAdmin()).isEmpty();
        assertThat(off.warnings()).extracting(Object::toString).singleElement().asString()
                .contains("admin.readOnlyListen: is not used: admin.enabled is false");
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
                .isInstanceOf(RulesException.class)
                .hasMessageContaining("absent.yaml: cannot read the rules file (no such file)");
    }
}
