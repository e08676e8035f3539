package org.gatehouse.mail;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.ExternalTool;
import org.gatehouse.testing.ExternalTool.Result;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * STARTTLS with the clients administrators and their users actually run: openssl s_client, curl, swaks and Python's
 * poplib, imaplib and smtplib, each verifying the gateway's certificate. All traffic stays on 127.0.0.1.
 */
class RealClientsTest {

    private static final int TIMEOUT_SECONDS = 30;

    @TempDir
    static Path dir;

    private static DemoMailServer backend;
    private static TestGateway gateway;
    private static String cert;

    @BeforeAll
    static void start() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
        StringBuilder yaml = new StringBuilder(TestGateway.CERTIFICATES).append("rules:\n");
        for (Protocol p : List.of(Protocol.POP3, Protocol.IMAP, Protocol.SMTP)) {
            InetSocketAddress b = backend.address(p);
            yaml.append(TestRules.rule(p.configName(), p.configName(), "starttls",
                    b.getAddress().getHostAddress() + ":" + b.getPort()));
        }
        gateway = TestGateway.start(dir, yaml.toString());
        cert = gateway.certificate().toString();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        backend.close();
    }

    private static String hostPort(String rule) {
        return "127.0.0.1:" + gateway.address(rule).getPort();
    }

    private static int port(String rule) {
        return gateway.address(rule).getPort();
    }

    private static Result openssl(String protocol, String rule, String input) throws Exception {
        ExternalTool.require("openssl");
        return ExternalTool.run(List.of("openssl", "s_client", "-starttls", protocol, "-connect", hostPort(rule),
                "-CAfile", cert, "-verify_return_error", "-verify_hostname", "localhost", "-crlf", "-quiet",
                "-ign_eof"),
                input, TIMEOUT_SECONDS);
    }

    @Test
    void opensslStarttlsPop3() throws Exception {
        Result r = openssl("pop3", "pop3", "USER demo\nPASS demo-password\nSTAT\nQUIT\n");
        assertThat(r.output()).contains("+OK logged in, 1 messages", "+OK Bye");
    }

    @Test
    void opensslStarttlsImap() throws Exception {
        Result r = openssl("imap", "imap", "a1 LOGIN demo demo-password\na2 SELECT INBOX\na3 LOGOUT\n");
        assertThat(r.output()).contains("a1 OK", "a2 OK", "a3 OK");
    }

    @Test
    void opensslStarttlsSmtp() throws Exception {
        Result r = openssl("smtp", "smtp", "EHLO client.test\nAUTH PLAIN AGRlbW8AZGVtby1wYXNzd29yZA==\nQUIT\n");
        assertThat(r.output()).contains("250 AUTH PLAIN LOGIN", "235", "221");
    }

    @Test
    void curlWithSslReqdFetchesOverPop3AndImapAndSends() throws Exception {
        ExternalTool.require("curl");
        List<String> common = List.of("curl", "-sS", "--ssl-reqd", "--cacert", cert, "-u", "demo:demo-password",
                "--max-time", "20");
        Result pop3 = ExternalTool.run(concat(common, "pop3://127.0.0.1:" + port("pop3") + "/1"), "", TIMEOUT_SECONDS);
        assertThat(pop3.exitCode()).as(pop3.output()).isZero();
        assertThat(pop3.output()).contains("Subject:");

        Result imap = ExternalTool.run(concat(common, "imap://127.0.0.1:" + port("imap") + "/INBOX;UID=1"), "",
                TIMEOUT_SECONDS);
        assertThat(imap.exitCode()).as(imap.output()).isZero();
        assertThat(imap.output()).contains("Subject:");

        Result smtp = ExternalTool.run(
                concat(common, "smtp://127.0.0.1:" + port("smtp"), "--mail-from", "a@client.test",
                        "--mail-rcpt", "demo@demo.gatehouse.test", "-T", "-"),
                "Subject: from curl\r\n\r\nhello\r\n",
                TIMEOUT_SECONDS);
        assertThat(smtp.exitCode()).as(smtp.output()).isZero();
        assertThat(backend.mailbox().messages()).anyMatch(m -> new String(m).contains("Subject: from curl"));
    }

    @Test
    void curlWithoutTlsCannotLogInAndThePasswordNeverReachesTheServer() throws Exception {
        ExternalTool.require("curl");
        Result r = ExternalTool.run(List.of("curl", "-sS", "-u", "demo:curl-cleartext-pw", "--max-time", "20",
                "pop3://127.0.0.1:" + port("pop3") + "/1"), "", TIMEOUT_SECONDS);

        assertThat(r.exitCode()).as(r.output()).isNotZero();
        assertThat(backend.receivedLines()).noneMatch(l -> l.contains("curl-cleartext-pw"));
    }

    @Test
    void swaksSubmitsWithStarttlsAndAuth() throws Exception {
        ExternalTool.require("swaks");
        Result r = ExternalTool.run(List.of("swaks", "--server", "127.0.0.1", "--port", Integer.toString(port("smtp")),
                "--tls", "--tls-verify", "--tls-ca-path", cert,
                "--auth", "PLAIN", "--auth-user", "demo", "--auth-password", "demo-password",
                "--from", "a@client.test", "--to", "demo@demo.gatehouse.test", "--header", "Subject: from swaks",
                "--timeout", "20"), "", TIMEOUT_SECONDS);

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("<-  250 STARTTLS", "<-  220 2.0.0 Ready to start TLS", "=== TLS started",
                "<~  235");
        assertThat(backend.mailbox().messages()).anyMatch(m -> new String(m).contains("Subject: from swaks"));
    }

    @Test
    void pythonPoplibImaplibSmtplibWithStarttls() throws Exception {
        ExternalTool.require("python3");
        Path script = dir.resolve("clients.py");
        Files.writeString(script, """
                import imaplib, poplib, smtplib, ssl, sys
                cafile, pop3, imap, smtp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
                ctx = ssl.create_default_context(cafile=cafile)

                p = poplib.POP3("127.0.0.1", pop3, timeout=20)
                try:
                    p.user("demo")
                    print("pop3 plaintext login: accepted")
                except poplib.error_proto as e:
                    print("pop3 plaintext login: refused", e)
                p.stls(ctx)
                p.user("demo"); p.pass_("demo-password")
                print("pop3 stat", p.stat()); p.quit()

                i = imaplib.IMAP4("127.0.0.1", imap, timeout=20)
                print("imap capabilities before tls", sorted(i.capabilities))
                i.starttls(ctx)
                i.login("demo", "demo-password")
                print("imap select", i.select("INBOX")[0]); i.logout()

                s = smtplib.SMTP("127.0.0.1", smtp, timeout=20)
                s.ehlo()
                print("smtp auth before tls", s.has_extn("auth"))
                s.starttls(context=ctx); s.ehlo()
                s.login("demo", "demo-password")
                s.sendmail("a@client.test", ["demo@demo.gatehouse.test"], "Subject: from python\\r\\n\\r\\nhi\\r\\n")
                s.quit()
                print("all done")
                """);
        Result r = ExternalTool.run(List.of("python3", script.toString(), cert, Integer.toString(port("pop3")),
                Integer.toString(port("imap")), Integer.toString(port("smtp"))), "", TIMEOUT_SECONDS);

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("pop3 plaintext login: refused", "pop3 stat (1,",
                "'LOGINDISABLED'", "'STARTTLS'", "imap select OK", "smtp auth before tls False", "all done");
        assertThat(backend.mailbox().messages()).anyMatch(m -> new String(m).contains("Subject: from python"));
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }
}
