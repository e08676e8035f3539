package org.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.gatehouse.login.PlaintextLogins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CommandLineTest {

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    /** Every rules file shipped under conf/ passes check, so the examples cannot go stale. */
    @Test
    void everyShippedRulesFilePassesCheck() throws Exception {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(Path.of("..", "conf"))) {
            files = walk.filter(p -> p.toString().endsWith(".yaml") && !p.toString().contains("state")).toList();
        }
        assertThat(files).extracting(p -> p.getFileName().toString()).contains("publishing-rules.yaml");
        assertThat(files).hasSizeGreaterThanOrEqualTo(2);
        for (Path file : files) {
            // A copy, so that check never touches the repository's own state folder.
            Path copy = dir.resolve(file.getFileName());
            Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
            assertThat(run("check", "--rules", copy.toString())).as(file + ": " + err).isZero();
            assertThat(out.toString()).contains("RULE").contains(": OK, ");
        }
        assertThat(Files.exists(dir.resolve("state"))).as("check generates nothing").isFalse();
    }

    @Test
    void plaintextLoginsPrintsTheSavedReport() throws Exception {
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, """
                rules:
                  - name: pop3
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    login: audit
                    backend: ["127.0.0.1:110"]
                """);
        assertThat(run("plaintext-logins", "--rules", rules.toString())).isZero();
        assertThat(out.toString()).contains("No plaintext logins recorded");

        PlaintextLogins report = PlaintextLogins.persistent(dir.resolve("state"));
        report.record("pop3", "192.0.2.7", "alice", PlaintextLogins.AUDITED, "USER/PASS");
        report.record("pop3", "192.0.2.7", "alice", PlaintextLogins.AUDITED, "USER/PASS");
        report.record("pop3", "198.51.100.9", "bob", PlaintextLogins.REFUSED, "AUTH PLAIN");
        report.saveIfChanged();

        assertThat(run("plaintext-logins", "--rules", rules.toString())).isZero();
        assertThat(out.toString()).containsPattern("pop3 +192\\.0\\.2\\.7 +- +- +alice +audited +USER/PASS +2 ")
                .containsPattern("pop3 +198\\.51\\.100\\.9 +- +- +bob +refused +AUTH PLAIN +1 ")
                .contains("2 entries from ");
    }

    @Test
    void checkPrintsTheEffectiveRules() throws Exception {
        Path copy = dir.resolve("rules.yaml");
        Files.copy(Path.of("..", "conf", "examples", "publishing-rules.yaml"), copy);

        assertThat(run("check", "--rules", copy.toString())).isZero();
        assertThat(out.toString()).contains(
                "pop3s             127.0.0.1:10995, [::1]:10995  pop3      implicit (bootstrap)  secure-only  "
                        + "127.0.0.1:110 (greeting 15 s)  max 10000, pre-login 50 idle 60 s  "
                        + "allow corp, 127.0.0.0/8; deny 10.66.0.0/16",
                "imaps (disabled)",
                "OK, 2 enabled of 3 rules");
        assertThat(err.toString()).contains("warning: ").contains("certificates.mail.certificate");
    }

    @Test
    void checkShowsTheBoundsOfEachRule() throws Exception {
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, """
                limits: { maxConnectionsPerClient: 5, maxPreLoginConnections: 20, preLoginIdleTimeout: 30s }
                rules:
                  - name: imap
                    listen: ["127.0.0.1:10143"]
                    protocol: imap
                    tls: none
                    backend: { servers: ["127.0.0.1:143"], greetingTimeout: 5s }
                  - name: raw
                    listen: ["127.0.0.1:10144"]
                    protocol: tcp
                    tls: none
                    backend: ["127.0.0.1:144"]
                    limits: { maxConnections: 0, connectionRatePerClient: 10/min }
                """);
        assertThat(run("check", "--rules", rules.toString())).as(err.toString()).isZero();
        assertThat(out.toString()).contains("127.0.0.1:143 (greeting 5 s)  max 10000, 5/client, pre-login 20 idle 30 s")
                .contains("127.0.0.1:144                 no max, 5/client, 10/min per client");
    }

    @Test
    void checkSaysWhatServersMustTrustForClientIdentityWithoutConnectingToThem() throws Exception {
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, """
                rules:
                  - name: smtp
                    listen: ["127.0.0.1:10025"]
                    protocol: smtp
                    tls: none
                    backend: { servers: ["127.0.0.1:9"], clientIdentity: xclient }
                  - name: imap
                    listen: ["127.0.0.1:10143"]
                    protocol: imap
                    tls: none
                    backend: { servers: ["127.0.0.1:9"], clientIdentity: imap-id }
                """);
        assertThat(run("check", "--rules", rules.toString())).as(err.toString()).isZero();
        assertThat(out.toString()).contains("note: rule smtp: clientIdentity xclient needs its servers to trust this "
                + "gateway's address (Postfix: smtpd_authorized_xclient_hosts)")
                .contains("note: rule imap: clientIdentity imap-id needs its servers to trust this gateway's address "
                        + "(Dovecot: login_trusted_networks)");
    }

    @Test
    void checkSaysHowDomainsAreVerified() throws Exception {
        Path copy = dir.resolve("rules.yaml");
        Files.copy(Path.of("..", "conf", "examples", "partner-domains.yaml"), copy);

        assertThat(run("check", "--rules", copy.toString())).isZero();
        assertThat(out.toString()).contains("allow partners", "allow any; deny dialup",
                "Domains are checked by forward-confirmed reverse DNS: resolvers 127.0.0.1:53, timeout 2000 ms, "
                        + "on failure deny.");
    }

    @Test
    void brokenFileIsRefusedByCheckAndRunWithEveryProblem() throws Exception {
        Path file = dir.resolve("broken.yaml");
        Files.writeString(file, """
                rules:
                  - name: a
                    listen: ["127.0.0.1:10110"]
                    protocol: pop3
                    tls: none
                    backend: ["127.0.0.1"]
                    access:
                      allow: [10.0.0.0/33]
                """);

        for (String command : List.of("check", "run")) {
            assertThat(run(command, "--rules", file.toString())).isEqualTo(Main.EXIT_INVALID_RULES);
        }
        assertThat(err.toString())
                .contains(file + ":6:15: rules[0].backend[0]: \"127.0.0.1\" has no port")
                .contains(file + ":8:15: rules[0].access.allow[0]: \"10.0.0.0/33\" is not an address or CIDR")
                .contains("nothing was started");
    }

    /** The report would otherwise be lost without a word ("check" said OK, "run" warned every 10 seconds). */
    @Test
    void aStateDirThatCannotBeWrittenFailsCheckAndRun() throws Exception {
        Path notAFolder = Files.writeString(dir.resolve("occupied"), "a file where the state folder should be");
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, """
                stateDir: %s/state
                rules:
                  - name: pop3
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    login: audit
                    backend: ["127.0.0.1:110"]
                """.formatted(notAFolder));

        for (String command : List.of("check", "run")) {
            assertThat(run(command, "--rules", file.toString())).as(command).isEqualTo(Main.EXIT_INVALID_RULES);
        }
        assertThat(err.toString()).contains(file + ":1:11: stateDir: " + notAFolder + "/state cannot be written: "
                + notAFolder + " is not a folder");
    }

    /** "0.1.0-SNAPSHOT" alone did not say which build an operator runs. */
    @Test
    void versionNamesTheCommitAndTheBuildDate() throws Exception {
        Process git = new ProcessBuilder("git", "rev-parse", "--short=10", "HEAD").redirectErrorStream(true).start();
        String head = new String(git.getInputStream().readAllBytes()).strip();
        assertThat(git.waitFor()).as(head).isZero();

        assertThat(run("--version")).isZero();
        assertThat(out.toString()).containsPattern("gatehouse \\d+\\.\\d+\\.\\d+\\S* \\(commit " + head
                + "( with uncommitted changes)?, built \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)");
    }

    @Test
    void helpAndVersionWork() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("run", "check", "demo");
        assertThat(run("--version")).isZero();
        assertThat(out.toString()).contains("gatehouse ");
    }
}
