package org.gatehouse.mail;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.demo.DemoMailbox;
import org.gatehouse.login.PlaintextLogins;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * STARTTLS and the login policy over real loopback sockets: a plaintext client, the JDK's TLS client after the upgrade,
 * and the demo server as the legacy backend, whose record of received lines shows what reached it.
 */
class StarttlsLoginIntegrationTest {

    /** A password that must never reach the backend: every refused login uses it. */
    private static final String NEVER_FORWARDED = "never-forwarded-pw";

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private TestGateway gateway;

    @BeforeEach
    void start() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
        StringBuilder yaml = new StringBuilder(TestGateway.CERTIFICATES).append("rules:\n");
        for (Protocol p : List.of(Protocol.POP3, Protocol.IMAP, Protocol.SMTP)) {
            for (String login : List.of("secure-only", "audit")) {
                yaml.append(TestRules.rule(p.configName() + "-" + login, p.configName(), "starttls",
                        backendOf(p))).append("    login: ").append(login).append('\n');
            }
        }
        gateway = TestGateway.start(dir, yaml.toString());
    }

    @AfterEach
    void stop() {
        gateway.close();
        backend.close();
    }

    private String backendOf(Protocol protocol) {
        InetSocketAddress a = backend.address(protocol);
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    private void assertBackendNeverSaw(String secret) {
        String base64Plain = Base64.getEncoder().encodeToString(("\0" + DemoMailbox.USER + "\0" + secret).getBytes());
        assertThat(backend.receivedLines()).noneMatch(l -> l.contains(secret) || l.contains(base64Plain));
    }

    @Test
    void pop3RefusesPlaintextThenLogsInAfterStls() throws Exception {
        Socket socket = gateway.plain("pop3-secure-only");
        try (LineClient c = new LineClient(socket)) {
            assertThat(c.readLine()).startsWith("+OK Gatehouse DEMO POP3");
            c.send("CAPA");
            assertThat(readBlock(c)).contains("STLS").doesNotContain("USER", "SASL"); // the demo offers only PLAIN
            assertThat(c.command("USER " + DemoMailbox.USER)).startsWith("-ERR [AUTH]");
            assertThat(c.command("PASS " + NEVER_FORWARDED)).startsWith("-ERR [AUTH]");
            assertThat(c.command("AUTH PLAIN " + plain(NEVER_FORWARDED))).startsWith("-ERR [AUTH]");
            assertThat(c.command("STLS")).isEqualTo("+OK Begin TLS negotiation");

            try (LineClient tls = new LineClient(gateway.upgrade(socket))) {
                assertThat(((SSLSocket) tls.socket()).getSession().getProtocol()).isIn("TLSv1.3", "TLSv1.2");
                tls.send("CAPA");
                assertThat(readBlock(tls)).contains("USER", "SASL PLAIN").doesNotContain("STLS");
                assertThat(tls.command("USER " + DemoMailbox.USER)).startsWith("+OK");
                assertThat(tls.command("PASS " + DemoMailbox.PASSWORD)).startsWith("+OK logged in");
                assertThat(tls.command("STAT")).startsWith("+OK 1 ");
                assertThat(tls.command("QUIT")).isEqualTo("+OK Bye");
            }
        }
        assertBackendNeverSaw(NEVER_FORWARDED);
        assertThat(backend.receivedLines()).noneMatch(l -> l.startsWith("pop3: STLS"));
        assertThat(gateway.counter("gatehouse.starttls.upgrades", "rule", "pop3-secure-only")).isEqualTo(1);
        // USER then PASS is one attempt, AUTH PLAIN another.
        assertThat(gateway.counter("gatehouse.logins.plaintext", "rule", "pop3-secure-only", "action", "refused"))
                .isEqualTo(2);
    }

    @Test
    void imapRefusesPlaintextThenLogsInAfterStarttls() throws Exception {
        Socket socket = gateway.plain("imap-secure-only");
        try (LineClient c = new LineClient(socket)) {
            assertThat(c.readLine()).startsWith("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED]");
            assertThat(c.command("a1 LOGIN " + DemoMailbox.USER + " " + NEVER_FORWARDED))
                    .startsWith("a1 NO [PRIVACYREQUIRED]");
            assertThat(c.command("a2 AUTHENTICATE PLAIN " + plain(NEVER_FORWARDED)))
                    .startsWith("a2 NO [PRIVACYREQUIRED]");
            assertThat(c.command("a3 STARTTLS")).isEqualTo("a3 OK Begin TLS negotiation now");

            try (LineClient tls = new LineClient(gateway.upgrade(socket))) {
                assertThat(tls.command("b1 CAPABILITY")).isEqualTo("* CAPABILITY IMAP4rev1 AUTH=PLAIN");
                assertThat(tls.readLine()).startsWith("b1 OK");
                assertThat(tls.command("b2 LOGIN " + DemoMailbox.USER + " " + DemoMailbox.PASSWORD))
                        .startsWith("b2 OK");
                assertThat(tls.command("b3 SELECT INBOX")).startsWith("* ");
            }
        }
        assertBackendNeverSaw(NEVER_FORWARDED);
        assertThat(backend.receivedLines()).noneMatch(l -> l.contains("STARTTLS"));
    }

    @Test
    void smtpRefusesAuthBeforeStarttlsThenSubmitsAfter() throws Exception {
        Socket socket = gateway.plain("smtp-secure-only");
        try (LineClient c = new LineClient(socket)) {
            assertThat(c.readLine()).startsWith("220 ");
            c.send("EHLO client.test");
            List<String> ehlo = readSmtpReply(c);
            assertThat(ehlo).anyMatch(l -> l.equals("250 STARTTLS")).noneMatch(l -> l.contains("AUTH"));
            assertThat(c.command("AUTH PLAIN " + plain(NEVER_FORWARDED)))
                    .isEqualTo("530 5.7.0 Must issue a STARTTLS command first");
            assertThat(c.command("STARTTLS")).isEqualTo("220 2.0.0 Ready to start TLS");

            try (LineClient tls = new LineClient(gateway.upgrade(socket))) {
                tls.send("EHLO client.test");
                assertThat(readSmtpReply(tls)).anyMatch(l -> l.contains("AUTH PLAIN LOGIN"))
                        .noneMatch(l -> l.contains("STARTTLS"));
                assertThat(tls.command("AUTH PLAIN " + plain(DemoMailbox.PASSWORD))).startsWith("235");
                assertThat(tls.command("MAIL FROM:<a@client.test>")).startsWith("250");
                assertThat(tls.command("RCPT TO:<demo@demo.gatehouse.test>")).startsWith("250");
                assertThat(tls.command("DATA")).startsWith("354");
                assertThat(tls.command("Subject: over STARTTLS\r\n\r\nhello\r\n.")).startsWith("250");
                assertThat(tls.command("QUIT")).startsWith("221");
            }
        }
        assertBackendNeverSaw(NEVER_FORWARDED);
        assertThat(backend.mailbox().messages()).anyMatch(m -> new String(m, StandardCharsets.ISO_8859_1)
                .contains("Subject: over STARTTLS"));
    }

    @Test
    void auditModeForwardsPlaintextLoginsAndReportsThem() throws Exception {
        LogCapture.clear();
        try (LineClient c = new LineClient(gateway.plain("pop3-audit"))) {
            c.readLine();
            assertThat(c.command("USER " + DemoMailbox.USER)).startsWith("+OK");
            assertThat(c.command("PASS " + DemoMailbox.PASSWORD)).startsWith("+OK logged in");
            assertThat(c.command("QUIT")).isEqualTo("+OK Bye");
        }
        try (LineClient c = new LineClient(gateway.plain("smtp-audit"))) {
            c.readLine();
            c.send("EHLO client.test");
            assertThat(readSmtpReply(c)).anyMatch(l -> l.contains("AUTH PLAIN LOGIN"));
            assertThat(c.command("AUTH PLAIN " + plain(DemoMailbox.PASSWORD))).startsWith("235");
        }

        List<PlaintextLogins.Entry> report = gateway.gateway().plaintextLogins().entries();
        assertThat(report).extracting(PlaintextLogins.Entry::rule, PlaintextLogins.Entry::client,
                PlaintextLogins.Entry::user, PlaintextLogins.Entry::action).containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("pop3-audit", "127.0.0.1", DemoMailbox.USER, "audited"),
                        org.assertj.core.groups.Tuple.tuple("smtp-audit", "127.0.0.1", DemoMailbox.USER, "audited"));
        assertThat(LogCapture.lines()).noneMatch(l -> l.contains(DemoMailbox.PASSWORD));

        gateway.close(); // saves the report
        Path saved = dir.resolve("state").resolve(PlaintextLogins.FILE_NAME);
        assertThat(PlaintextLogins.read(saved)).hasSize(2);
        assertThat(Files.readString(saved)).doesNotContain(DemoMailbox.PASSWORD);
        gateway = TestGateway.start(dir, Files.readString(dir.resolve("rules.yaml")));
        assertThat(gateway.gateway().plaintextLogins().entries()).hasSize(2); // survives a restart
    }

    @Test
    void plaintextInjectedAfterStarttlsClosesTheConnectionAndReachesNobody() throws Exception {
        try (LineClient c = new LineClient(gateway.plain("imap-audit"))) {
            c.readLine();
            c.output().write(("a1 STARTTLS\r\na2 LOGIN " + DemoMailbox.USER + " " + NEVER_FORWARDED + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            c.output().flush();

            assertThat(c.readLine()).isEqualTo("* BYE Closing connection: plaintext pipelined after STARTTLS");
            assertThat(c.readLine()).isNull();
        }
        assertBackendNeverSaw(NEVER_FORWARDED);
        assertThat(gateway.counter("gatehouse.protocol.violations", "rule", "imap-audit", "kind", "starttls-injection"))
                .isEqualTo(1);
    }

    @Test
    void aMisbehavingClientDoesNotDisturbAnother() throws Exception {
        try (LineClient good = new LineClient(gateway.plain("pop3-audit"));
                LineClient bad = new LineClient(gateway.plain("pop3-audit"))) {
            good.readLine();
            bad.readLine();
            bad.send("NOOP " + "x".repeat(20_000));
            assertThat(bad.readLine()).isEqualTo("-ERR Line too long");
            assertThat(bad.readLine()).isNull();
            assertThat(good.command("USER " + DemoMailbox.USER)).startsWith("+OK");
            assertThat(good.command("PASS " + DemoMailbox.PASSWORD)).startsWith("+OK logged in");
        }
    }

    private static String plain(String password) {
        return Base64.getEncoder().encodeToString(("\0" + DemoMailbox.USER + "\0" + password).getBytes());
    }

    private static String readBlock(LineClient c) throws Exception {
        StringBuilder block = new StringBuilder();
        for (String line = c.readLine(); line != null && !line.equals("."); line = c.readLine()) {
            block.append(line).append('\n');
        }
        return block.toString();
    }

    private static List<String> readSmtpReply(LineClient c) throws Exception {
        List<String> lines = new ArrayList<>();
        String line;
        do {
            line = c.readLine();
            lines.add(line);
        } while (line != null && line.length() > 3 && line.charAt(3) == '-');
        return lines;
    }
}
