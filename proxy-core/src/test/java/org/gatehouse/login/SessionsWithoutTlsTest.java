package org.gatehouse.login;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.ExternalTool;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestDnsServer;
import org.gatehouse.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report finds the clients that never send a password without TLS, and so were not in it: one that looks at the
 * capabilities under secure-only, finds no login it may use and leaves (curl, many phones), and one that submits mail
 * without STARTTLS and without AUTH (curl on 587). And secureChannel: required refuses the transaction itself.
 */
class SessionsWithoutTlsTest {

    private static final int TIMEOUT_SECONDS = 30;

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private TestDnsServer dns;
    private TestGateway gateway;

    @BeforeEach
    void start() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
        InetSocketAddress pop3 = backend.address(Protocol.POP3);
        InetSocketAddress imap = backend.address(Protocol.IMAP);
        InetSocketAddress smtp = backend.address(Protocol.SMTP);
        dns = TestDnsServer.start();
        dns.ptr("127.0.0.2", "mail.contoso.com", 300).address("mail.contoso.com", "127.0.0.2", 300);
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + """
                dns: { servers: ["%s"], timeout: 2s }
                clientSets:
                  partners: { domains: [contoso.com] }
                rules:
                  - { name: pop3, listen: ["127.0.0.1:0"], protocol: pop3, tls: starttls, certificate: test,
                      backend: ["127.0.0.1:%d"] }
                  - { name: imap, listen: ["127.0.0.1:0"], protocol: imap, tls: starttls, certificate: test,
                      backend: ["127.0.0.1:%d"] }
                  - { name: submission, listen: ["127.0.0.1:0"], protocol: smtp, tls: starttls, certificate: test,
                      backend: ["127.0.0.1:%d"] }
                  - { name: strict, listen: ["127.0.0.1:0"], protocol: smtp, tls: starttls, certificate: test,
                      secureChannel: required, backend: ["127.0.0.1:%d"] }
                  - { name: strict-pop3, listen: ["127.0.0.1:0"], protocol: pop3, tls: starttls, certificate: test,
                      secureChannel: required, backend: ["127.0.0.1:%d"] }
                  - { name: mx, listen: ["127.0.0.1:0"], protocol: smtp, tls: starttls, certificate: test,
                      secureChannel: "off", backend: ["127.0.0.1:%d"] }
                  - { name: strict-imap, listen: ["127.0.0.1:0"], protocol: imap, tls: starttls, certificate: test,
                      secureChannel: required, backend: ["127.0.0.1:%d"] }
                  - { name: partners, listen: ["127.0.0.1:0"], protocol: smtp, tls: starttls, certificate: test,
                      backend: ["127.0.0.1:%d"], access: { allow: [partners] } }
                """.formatted(dns.hostPort(), pop3.getPort(), imap.getPort(), smtp.getPort(), smtp.getPort(),
                pop3.getPort(), smtp.getPort(), imap.getPort(), smtp.getPort()));
        LogCapture.clear();
    }

    @AfterEach
    void stop() {
        gateway.close();
        dns.close();
        backend.close();
    }

    private String url(String scheme, String rule) {
        return scheme + "://127.0.0.1:" + gateway.address(rule).getPort();
    }

    private List<PlaintextLogins.Entry> report(String rule) {
        return gateway.gateway().plaintextLogins().entries().stream().filter(e -> e.rule().equals(rule)).toList();
    }

    private static ExternalTool.Result curl(String... args) throws Exception {
        ExternalTool.require("curl");
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20"));
        command.addAll(List.of(args));
        return ExternalTool.run(command, "Subject: hello\r\n\r\nwithout TLS\r\n", TIMEOUT_SECONDS);
    }

    @Test
    void curlThatFindsNoLoginItMayUseAndLeavesIsRecorded() throws Exception {
        ExternalTool.Result r = curl("-u", "demo:demo-password", url("pop3", "pop3") + "/1");
        assertThat(r.exitCode()).as("curl gives up: " + r.output()).isNotZero();

        Eventually.until("the client that left is in the report", () -> !report("pop3").isEmpty());
        PlaintextLogins.Entry entry = report("pop3").get(0);
        assertThat(entry.client()).isEqualTo("127.0.0.1");
        assertThat(entry.action()).isEqualTo(PlaintextLogins.LEFT);
        assertThat(entry.method()).isEqualTo("no STARTTLS after CAPA");
        assertThat(gateway.counter("gatehouse.sessions.without.tls", "rule", "pop3", "what", "left", "action",
                "left")).isEqualTo(1);
        assertThat(LogCapture.lines()).anyMatch(l -> l.contains(
                "event=left-without-tls action=left rule=pop3 client=127.0.0.1 command=\"no STARTTLS after CAPA\""));
    }

    @Test
    void curlSubmittingWithoutStarttlsOrAuthIsRecordedWithItsEhloName() throws Exception {
        ExternalTool.Result r = curl(url("smtp", "submission") + "/client.example", "--mail-from", "a@client.test",
                "--mail-rcpt", "demo@demo.gatehouse.test", "-T", "-");
        assertThat(r.exitCode()).as("delivered, as before: " + r.output()).isZero();

        Eventually.until("the transaction is in the report", () -> !report("submission").isEmpty());
        PlaintextLogins.Entry entry = report("submission").get(0);
        assertThat(entry.action()).isEqualTo(PlaintextLogins.AUDITED);
        assertThat(entry.method()).isEqualTo("MAIL");
        assertThat(entry.hello()).isEqualTo("client.example");
        assertThat(LogCapture.lines()).anyMatch(l -> l.contains("event=transaction-without-tls action=audited "
                + "rule=submission client=127.0.0.1 command=\"MAIL\" hello=client.example"));
    }

    @Test
    void secureChannelRequiredRefusesTheTransactionBeforeTlsAndNotAfter() throws Exception {
        ExternalTool.Result plain = curl(url("smtp", "strict"), "--mail-from", "a@client.test", "--mail-rcpt",
                "demo@demo.gatehouse.test", "-T", "-");
        assertThat(plain.exitCode()).isNotZero();
        assertThat(plain.output()).contains("530");
        assertThat(backend.mailbox().messages()).noneMatch(m -> new String(m).contains("without TLS"));
        Eventually.until("the refusal is in the report", () -> report("strict").stream()
                .anyMatch(e -> e.action().equals(PlaintextLogins.REFUSED) && e.method().equals("MAIL")));

        ExternalTool.Result tls = curl("--ssl-reqd", "--cacert", gateway.certificate().toString(),
                url("smtp", "strict"), "--mail-from", "a@client.test", "--mail-rcpt", "demo@demo.gatehouse.test",
                "-T", "-");
        assertThat(tls.exitCode()).as(tls.output()).isZero();
    }

    @Test
    void secureChannelRequiredRefusesEvenAChallengeResponseLoginBeforeTls() throws Exception {
        try (LineClient c = new LineClient(new Socket("127.0.0.1", gateway.address("strict-pop3").getPort()))) {
            c.readLine();
            assertThat(c.command("APOP demo 0123456789abcdef0123456789abcdef")).startsWith("-ERR [AUTH]");
        }
        try (LineClient c = new LineClient(new Socket("127.0.0.1", gateway.address("pop3").getPort()))) {
            c.readLine();
            assertThat(c.command("APOP demo 0123456789abcdef0123456789abcdef")).as("forwarded by default")
                    .doesNotStartWith("-ERR [AUTH] Plaintext");
        }
    }

    @Test
    void secureChannelOffRecordsNothingButLogins() throws Exception {
        ExternalTool.Result r = curl(url("smtp", "mx"), "--mail-from", "a@client.test", "--mail-rcpt",
                "demo@demo.gatehouse.test", "-T", "-");
        assertThat(r.exitCode()).as(r.output()).isZero();
        Thread.sleep(300);
        assertThat(report("mx")).isEmpty();
    }

    @Test
    void anImapClientIsNamedByItsId() throws Exception {
        try (LineClient c = new LineClient(new Socket("127.0.0.1", gateway.address("imap").getPort()))) {
            c.readLine();
            c.command("a1 ID (\"name\" \"Thunderbird\" \"version\" \"115.3\u001b[31m\")");
            c.command("a2 LOGIN demo demo-password");
        }
        Eventually.until("the refused login is in the report", () -> !report("imap").isEmpty());
        assertThat(report("imap").get(0).hello()).isEqualTo("Thunderbird 115.3\\x1b[31m");
    }

    @Test
    void secureChannelRequiredRefusesMailboxCommandsBeforeTlsInPop3AndImap() throws Exception {
        try (LineClient c = new LineClient(new Socket("127.0.0.1", gateway.address("strict-pop3").getPort()))) {
            c.readLine();
            assertThat(c.command("RETR 1")).isEqualTo("-ERR TLS required: send STLS first");
            assertThat(c.command("STAT")).isEqualTo("-ERR TLS required: send STLS first");
            assertThat(c.command("NOOP")).as("passed on").startsWith("+OK");
        }
        try (LineClient c = new LineClient(new Socket("127.0.0.1", gateway.address("strict-imap").getPort()))) {
            c.readLine();
            assertThat(c.command("a1 SELECT INBOX")).isEqualTo("a1 NO [PRIVACYREQUIRED] TLS required: send STARTTLS"
                    + " first");
            assertThat(c.command("a2 EXAMINE INBOX")).startsWith("a2 NO [PRIVACYREQUIRED]");
            assertThat(c.command("a3 NOOP")).as("passed on").startsWith("a3 OK");
        }
        Eventually.until("both in the report", () -> report("strict-pop3").size() == 1
                && report("strict-imap").size() == 1);
        assertThat(report("strict-pop3").get(0).method()).isEqualTo("RETR");
        assertThat(report("strict-imap").get(0).method()).isEqualTo("SELECT");
        assertThat(report("strict-imap").get(0).action()).isEqualTo(PlaintextLogins.REFUSED);
        assertThat(gateway.counter("gatehouse.commands.refused", "rule", "strict-pop3", "reason", "tls-required"))
                .isEqualTo(2);
    }

    @Test
    void aClientIsNamedByItsVerifiedReverseDnsName() throws Exception {
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
        socket.connect(gateway.address("partners"));
        try (LineClient c = new LineClient(socket)) {
            c.readLine();
            c.command("HELO laptop.contoso.com");
            c.command("MAIL FROM:<a@contoso.com>");
        }
        Eventually.until("the transaction is in the report", () -> !report("partners").isEmpty());
        PlaintextLogins.Entry entry = report("partners").get(0);
        assertThat(entry.client()).isEqualTo("127.0.0.2");
        assertThat(entry.name()).isEqualTo("mail.contoso.com");
        assertThat(entry.hello()).isEqualTo("laptop.contoso.com");
    }
}
