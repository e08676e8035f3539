package org.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gatehouse.login.PlaintextLogins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code gatehouse plaintext-logins}: filters, and the report as CSV and JSON for the tools that read them. */
class PlaintextLoginsCommandTest {

    @TempDir
    Path dir;

    private Path rules;
    private StringWriter out = new StringWriter();
    private StringWriter err = new StringWriter();

    private int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        String[] all = new String[args.length + 3];
        all[0] = "plaintext-logins";
        all[1] = "--rules";
        all[2] = rules.toString();
        System.arraycopy(args, 0, all, 3, args.length);
        return cli.execute(all);
    }

    @BeforeEach
    void report() throws Exception {
        rules = dir.resolve("rules.yaml");
        Files.writeString(rules, """
                rules:
                  - { name: pop3, listen: ["127.0.0.1:10110"], protocol: pop3, tls: none, login: audit,
                      backend: ["127.0.0.1:110"] }
                """);
        PlaintextLogins report = PlaintextLogins.persistent(dir.resolve("state"));
        report.record("pop3", "192.0.2.7", "alice", PlaintextLogins.AUDITED, "USER/PASS");
        report.record("submission", "198.51.100.9", "-", PlaintextLogins.AUDITED, "MAIL", "=HYPERLINK(\"x\"),1",
                "printer.example.com");
        report.record("pop3", "2001:db8::5", "-", PlaintextLogins.LEFT, "no STARTTLS after CAPA", "", "");
        report.saveIfChanged();
    }

    @Test
    void filtersByRuleActionAndClientBlock() {
        assertThat(run("--rule", "pop3")).isZero();
        assertThat(out.toString()).contains("192.0.2.7", "2001:db8::5").doesNotContain("198.51.100.9")
                .contains("2 entries from ");

        assertThat(run("--action", "left")).isZero();
        assertThat(out.toString()).contains("2001:db8::5").doesNotContain("192.0.2.7").contains("1 entries from ");

        assertThat(run("--client", "198.51.100.0/24")).isZero();
        assertThat(out.toString()).containsPattern("198\\.51\\.100\\.9 +printer\\.example\\.com ")
                .doesNotContain("192.0.2.7");

        assertThat(run("--client", "2001:db8::/32", "--since", "1h")).isZero();
        assertThat(out.toString()).contains("2001:db8::5").contains("1 entries from ");

        assertThat(run("--rule", "imap")).isZero();
        assertThat(out.toString()).contains("No plaintext logins that match recorded in ");
    }

    @Test
    void badFilterWordsAreUsageErrorsThatSayWhatIsExpected() {
        assertThat(run("--action", "denied")).isEqualTo(2);
        assertThat(err.toString()).contains("--action denied is not an action");
        assertThat(run("--since", "a week")).isEqualTo(2);
        assertThat(err.toString()).contains("--since a week is not a duration (7d, 12h, 30m, P7D, PT12H)");
        assertThat(run("--client", "192.0.2.300")).isEqualTo(2);
        assertThat(err.toString()).contains("--client: ");
        assertThat(run("--format", "xml")).isEqualTo(2);
        assertThat(err.toString()).contains("--format xml is not a format (table, csv or json)");
    }

    @Test
    void csvQuotesAndDefusesFormulas() {
        assertThat(run("--format", "csv", "--rule", "submission")).isZero();
        String[] lines = out.toString().split("\r\n");
        assertThat(lines[0]).isEqualTo("last_seen,rule,client,name,hello,user,action,method,count,first_seen");
        assertThat(lines[1]).matches("[0-9T:Z-]+,submission,198\\.51\\.100\\.9,printer\\.example\\.com,"
                + "\"'=HYPERLINK\\(\"\"x\"\"\\),1\",-,audited,MAIL,1,[0-9T:Z-]+");
        assertThat(lines).hasSize(2);
    }

    @Test
    void jsonIsOneArrayOfObjects() throws Exception {
        assertThat(run("--format", "json", "--action", "audited")).isZero();
        com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(out.toString());
        assertThat(json.isArray()).isTrue();
        assertThat(json).hasSize(2);
        assertThat(json.findValuesAsText("client")).containsExactlyInAnyOrder("192.0.2.7", "198.51.100.9");
        assertThat(json.findValuesAsText("hello")).contains("=HYPERLINK(\"x\"),1");
        assertThat(json.get(0).get("count").asLong()).isEqualTo(1);
    }
}
