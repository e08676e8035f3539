package org.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * clientIdentity xclient and imap-id over real sockets: a client bound to 127.0.0.77 talks through the gateway to
 * servers that answer as Postfix and Dovecot do. The server reads the client's address and port before the client's
 * first command; the client sees the server's first greeting and nothing of the dialogue; a server that does not offer
 * the command still serves the session, with a log line and a metric.
 */
class ClientIdentityTest {

    @TempDir
    Path dir;

    private ScriptedMailServer postfix;
    private ScriptedMailServer plainSmtp;
    private ScriptedMailServer dovecotPop3;
    private ScriptedMailServer dovecotImap;
    private ScriptedMailServer mute;
    private TestGateway gateway;

    @BeforeEach
    void start() throws Exception {
        postfix = new ScriptedMailServer("220 backend.example.test ESMTP first", line -> {
            if (line.startsWith("EHLO ")) {
                return "250-backend.example.test\n250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN\n250 8BITMIME";
            }
            if (line.startsWith("XCLIENT ")) {
                return "220 backend.example.test ESMTP second";
            }
            return line.equals("QUIT") ? "221 2.0.0 Bye" : "502 5.5.2 no";
        });
        plainSmtp = new ScriptedMailServer("220 plain ESMTP", line -> line.startsWith("EHLO ")
                ? "250-plain\n250 PIPELINING"
                : line.equals("QUIT") ? "221 Bye" : "502 no");
        // As Dovecot 2.3 answers a trusted address: XCLIENT in the greeting's code, not in CAPA.
        dovecotPop3 = new ScriptedMailServer("+OK [XCLIENT] Dovecot ready.", line -> switch (line.split(" ")[0]) {
            case "CAPA" -> "+OK\nCAPA\nTOP\nUIDL\nUSER\n.";
            case "XCLIENT" -> "+OK Updated";
            case "QUIT" -> "+OK Logging out";
            default -> "-ERR Unknown command.";
        });
        dovecotImap = new ScriptedMailServer("* OK [CAPABILITY IMAP4rev1 SASL-IR ID IDLE] Dovecot ready.", line -> {
            String[] words = line.split(" ");
            return switch (words.length > 1 ? words[1] : "") {
                case "ID" -> "* ID (\"name\" \"Dovecot\")\n" + words[0] + " OK ID completed.";
                case "NOOP" -> words[0] + " OK NOOP completed.";
                case "LOGOUT" -> "* BYE Logging out\n" + words[0] + " OK Logout completed.";
                default -> words[0] + " BAD Error";
            };
        });
        mute = new ScriptedMailServer("220 greets and then says nothing", line -> null);
        gateway = TestGateway.start(dir, """
                rules:
                  - name: smtp
                    listen: ["127.0.0.1:0"]
                    protocol: smtp
                    tls: none
                    backend: { servers: ["%s"], clientIdentity: xclient }
                  - name: smtp-plain
                    listen: ["127.0.0.1:0"]
                    protocol: smtp
                    tls: none
                    backend: { servers: ["%s"], clientIdentity: xclient }
                  - name: pop3
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    backend: { servers: ["%s"], clientIdentity: xclient }
                  - name: imap
                    listen: ["127.0.0.1:0"]
                    protocol: imap
                    tls: none
                    backend: { servers: ["%s"], clientIdentity: imap-id }
                  - name: smtp-mute
                    listen: ["127.0.0.1:0"]
                    protocol: smtp
                    tls: none
                    backend: { servers: ["%s"], clientIdentity: xclient, greetingTimeout: 1s }
                """.formatted(postfix.hostPort(), plainSmtp.hostPort(), dovecotPop3.hostPort(),
                dovecotImap.hostPort(), mute.hostPort()));
        LogCapture.clear();
    }

    @AfterEach
    void stop() {
        gateway.close();
        postfix.close();
        plainSmtp.close();
        dovecotPop3.close();
        dovecotImap.close();
        mute.close();
    }

    /** A client connection from 127.0.0.77, as a real client elsewhere on the network would come. */
    private LineClient from77(String rule) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress("127.0.0.77", 0));
        s.connect(gateway.address(rule), 5_000);
        s.setSoTimeout(10_000);
        return new LineClient(s);
    }

    @Test
    void postfixHearsTheClientsAddressBeforeItsEhloAndTheClientSeesOneGreeting() throws Exception {
        int port;
        try (LineClient c = from77("smtp")) {
            port = c.socket().getLocalPort();
            assertThat(c.readLine()).isEqualTo("220 backend.example.test ESMTP first");
            // XCLIENT is offered to the gateway, not shown to the client; the client's own is never passed on.
            assertThat(c.command("EHLO client.example")).isEqualTo("250-backend.example.test");
            assertThat(c.readLine()).isEqualTo("250 8BITMIME");
            assertThat(c.command("XCLIENT ADDR=10.9.9.9")).isEqualTo("550 5.7.0 XCLIENT is the gateway's to send");
            assertThat(c.command("XFORWARD ADDR=10.9.9.9")).isEqualTo("550 5.7.0 XFORWARD is the gateway's to send");
            assertThat(c.command("QUIT")).isEqualTo("221 2.0.0 Bye");
        }
        assertThat(postfix.read()).containsExactly("EHLO [127.0.0.1]",
                "XCLIENT ADDR=127.0.0.77 PORT=" + port + " NAME=[UNAVAILABLE]", "EHLO client.example", "QUIT");
        assertThat(gateway.counter("gatehouse.commands.refused", "rule", "smtp", "reason", "client-identity"))
                .isEqualTo(2);
        assertThat(gateway.counter("gatehouse.backend.client.identity", "rule", "smtp", "result", "sent"))
                .isEqualTo(1);
    }

    @Test
    void aServerWithoutXclientServesTheSessionAndTheGatewaySaysWhy() throws Exception {
        try (LineClient c = from77("smtp-plain")) {
            assertThat(c.readLine()).isEqualTo("220 plain ESMTP");
            assertThat(c.command("EHLO client.example")).isEqualTo("250-plain");
            assertThat(c.readLine()).isEqualTo("250 PIPELINING");
            assertThat(c.command("QUIT")).isEqualTo("221 Bye");
        }
        assertThat(plainSmtp.read()).containsExactly("EHLO [127.0.0.1]", "EHLO client.example", "QUIT");
        assertThat(gateway.counter("gatehouse.backend.client.identity", "rule", "smtp-plain", "result",
                "not-offered")).isEqualTo(1);
        assertThat(LogCapture.lines()).anySatisfy(l -> assertThat(l).startsWith("gatehouse.backend ")
                .contains("does not offer the client's address").contains("rule=smtp-plain ")
                .contains("clientIdentity=xclient"));
    }

    @Test
    void dovecotPop3HearsXclientAfterItsGreeting() throws Exception {
        int port;
        try (LineClient c = from77("pop3")) {
            port = c.socket().getLocalPort();
            assertThat(c.readLine()).isEqualTo("+OK [XCLIENT] Dovecot ready.");
            assertThat(c.command("CAPA")).isEqualTo("+OK");
            List<String> capa = new ArrayList<>();
            for (String line = c.readLine(); !".".equals(line); line = c.readLine()) {
                capa.add(line);
            }
            assertThat(capa).contains("TOP").doesNotContain("XCLIENT"); // offered to the gateway only
            assertThat(c.command("XCLIENT ADDR=10.9.9.9")).isEqualTo("-ERR XCLIENT is the gateway's to send");
            assertThat(c.command("QUIT")).isEqualTo("+OK Logging out");
        }
        assertThat(dovecotPop3.read()).containsExactly("XCLIENT ADDR=127.0.0.77 PORT=" + port, "CAPA", "QUIT");
        assertThat(gateway.counter("gatehouse.backend.client.identity", "rule", "pop3", "result", "sent"))
                .isEqualTo(1);
    }

    @Test
    void dovecotImapHearsIdAndTheClientNeverSeesItsAnswer() throws Exception {
        int port;
        try (LineClient c = from77("imap")) {
            port = c.socket().getLocalPort();
            // The greeting the server sent first, through the mail inspector (which says LOGINDISABLED without TLS).
            assertThat(c.readLine())
                    .isEqualTo("* OK [CAPABILITY IMAP4rev1 SASL-IR ID IDLE LOGINDISABLED] Dovecot ready.");
            assertThat(c.command("a1 NOOP")).isEqualTo("a1 OK NOOP completed.");
            assertThat(c.command("a3 ID (\"name\" \"x\" \"X-Originating-IP\" \"10.9.9.9\")"))
                    .isEqualTo("a3 NO ID fields x-* are the gateway's to send");
            assertThat(c.command("a4 ID (\"name\" \"Thunderbird\")")).isEqualTo("* ID (\"name\" \"Dovecot\")");
            assertThat(c.readLine()).isEqualTo("a4 OK ID completed.");
            assertThat(c.command("a2 LOGOUT")).isEqualTo("* BYE Logging out");
            assertThat(c.readLine()).isEqualTo("a2 OK Logout completed.");
        }
        assertThat(dovecotImap.read()).containsExactly(
                "gh2 ID (\"x-originating-ip\" \"127.0.0.77\" \"x-originating-port\" \"" + port + "\")", "a1 NOOP",
                "a4 ID (\"name\" \"Thunderbird\")", "a2 LOGOUT");
        assertThat(gateway.counter("gatehouse.backend.client.identity", "rule", "imap", "result", "sent"))
                .isEqualTo(1);
    }

    @Test
    void aClientThatTalksFirstWaitsUntilTheServerHasHeardItsAddress() throws Exception {
        int port;
        try (LineClient c = from77("pop3")) {
            port = c.socket().getLocalPort();
            c.send("QUIT"); // before the greeting: held by the gateway until XCLIENT is answered
            assertThat(c.readLine()).isEqualTo("+OK [XCLIENT] Dovecot ready.");
            assertThat(c.readLine()).isEqualTo("+OK Logging out");
        }
        assertThat(dovecotPop3.read()).containsExactly("XCLIENT ADDR=127.0.0.77 PORT=" + port, "QUIT");
    }

    @Test
    void aServerThatGreetsAndThenNeverAnswersTheDialogueGetsTheClientATemporaryError() throws Exception {
        try (LineClient c = from77("smtp-mute")) {
            // The greeting timeout covers the dialogue: the client never saw the held greeting, only the 421.
            assertThat(c.readLine()).isEqualTo("421 4.4.2 The mail server did not answer, try again later");
            assertThat(c.readLine()).isNull();
        }
        assertThat(mute.read()).containsExactly("EHLO [127.0.0.1]");
        assertThat(LogCapture.lines()).anySatisfy(l -> assertThat(l).startsWith("gatehouse.backend ")
                .contains("did not greet and answer the client-identity commands").contains("rule=smtp-mute "));
    }
}
