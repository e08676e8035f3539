package org.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SSLSocket;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.demo.DemoMailbox;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway over real loopback sockets, with a real TLS client, in front of the demo mail server. */
class PublishingIntegrationTest {

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private TestGateway gateway;

    @BeforeEach
    void startBackend() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
    }

    @AfterEach
    void stopAll() {
        if (gateway != null) {
            gateway.close();
        }
        backend.close();
    }

    private String backendOf(Protocol protocol) {
        InetSocketAddress a = backend.address(protocol);
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /** One implicit-TLS rule per protocol, each on a free loopback port, in front of the demo server. */
    private TestGateway startAll(String access) throws Exception {
        StringBuilder yaml = new StringBuilder(TestGateway.CERTIFICATES).append("rules:\n");
        for (Protocol p : List.of(Protocol.POP3, Protocol.IMAP, Protocol.SMTP)) {
            yaml.append("  - name: ").append(p.configName()).append("s\n")
                    .append("    listen: [\"127.0.0.1:0\"]\n")
                    .append("    protocol: ").append(p.configName()).append('\n')
                    .append("    certificate: test\n")
                    .append("    backend: [\"").append(backendOf(p)).append("\"]\n")
                    .append(access);
        }
        gateway = TestGateway.start(dir, yaml.toString());
        return gateway;
    }

    @Test
    void pop3SessionIsRelayedOverImplicitTls() throws Exception {
        startAll("");
        try (LineClient c = new LineClient(gateway.tls("pop3s"))) {
            assertThat(((SSLSocket) c.socket()).getSession().getProtocol()).isIn("TLSv1.3", "TLSv1.2");
            assertThat(c.readLine()).startsWith("+OK Gatehouse DEMO POP3");
            assertThat(c.command("USER " + DemoMailbox.USER)).startsWith("+OK");
            assertThat(c.command("PASS " + DemoMailbox.PASSWORD)).isEqualTo("+OK logged in, 1 messages");
            assertThat(c.command("STAT")).startsWith("+OK 1 ");
            assertThat(c.command("QUIT")).isEqualTo("+OK Bye");
            assertThat(c.readLine()).isNull();
        }
        assertThat(backend.receivedLines()).contains("pop3: STAT", "pop3: QUIT");
    }

    @Test
    void imapSessionIsRelayedOverImplicitTls() throws Exception {
        startAll("");
        try (LineClient c = new LineClient(gateway.tls("imaps"))) {
            assertThat(c.readLine()).startsWith("* OK [CAPABILITY IMAP4rev1");
            assertThat(c.command("a1 LOGIN " + DemoMailbox.USER + " " + DemoMailbox.PASSWORD)).startsWith("a1 OK");
            assertThat(c.command("a2 SELECT INBOX")).isEqualTo("* 1 EXISTS");
            String line;
            while (!(line = c.readLine()).startsWith("a2 ")) {
                assertThat(line).startsWith("* ");
            }
            assertThat(line).startsWith("a2 OK [READ-WRITE]");
            assertThat(c.command("a3 LOGOUT")).startsWith("* BYE");
            assertThat(c.readLine()).startsWith("a3 OK");
        }
    }

    @Test
    void smtpSessionIsRelayedOverImplicitTlsAndDelivers() throws Exception {
        startAll("");
        try (LineClient c = new LineClient(gateway.tls("smtps"))) {
            assertThat(c.readLine()).startsWith("220 ");
            c.send("EHLO client.test");
            String line;
            while ((line = c.readLine()).startsWith("250-")) {
                assertThat(line).doesNotContain("STARTTLS");
            }
            assertThat(line).isEqualTo("250 AUTH PLAIN LOGIN");
            String plain = Base64.getEncoder().encodeToString(("\0" + DemoMailbox.USER + "\0" + DemoMailbox.PASSWORD)
                    .getBytes(StandardCharsets.UTF_8));
            assertThat(c.command("AUTH PLAIN " + plain)).startsWith("235 ");
            assertThat(c.command("MAIL FROM:<a@client.test>")).startsWith("250 ");
            assertThat(c.command("RCPT TO:<demo@demo.test>")).startsWith("250 ");
            assertThat(c.command("DATA")).startsWith("354 ");
            c.send("Subject: relayed\r\n\r\n..a line that starts with a dot\r\n.");
            assertThat(c.readLine()).startsWith("250 ");
            assertThat(c.command("QUIT")).startsWith("221 ");
        }
        assertThat(new String(backend.mailbox().messages().get(1), StandardCharsets.US_ASCII))
                .isEqualTo("Subject: relayed\r\n\r\n.a line that starts with a dot\r\n");
    }

    @Test
    void twentyMegabytesReachTheClientByteExact() throws Exception {
        byte[] message = bigMessage(20 * 1024 * 1024, 1);
        backend.mailbox().add(message);
        startAll("");
        try (LineClient c = new LineClient(gateway.tls("pop3s"))) {
            c.readLine();
            c.command("USER " + DemoMailbox.USER);
            c.command("PASS " + DemoMailbox.PASSWORD);
            assertThat(c.command("RETR 2")).isEqualTo("+OK " + message.length + " octets");
            ByteArrayOutputStream received = new ByteArrayOutputStream(message.length);
            String line;
            while (!(line = c.readLine()).equals(".")) {
                received.writeBytes(
                        (line.startsWith(".") ? line.substring(1) : line).getBytes(StandardCharsets.ISO_8859_1));
                received.writeBytes(new byte[]{'\r', '\n'});
            }
            assertThat(sha256(received.toByteArray())).isEqualTo(sha256(message));
            assertThat(c.command("QUIT")).startsWith("+OK");
        }
    }

    @Test
    void twentyMegabytesReachTheBackendByteExact() throws Exception {
        byte[] message = bigMessage(20 * 1024 * 1024, 2);
        startAll("");
        try (LineClient c = new LineClient(gateway.tls("smtps"))) {
            c.readLine();
            assertThat(c.command("HELO client.test")).startsWith("250");
            assertThat(c.command("MAIL FROM:<a@client.test>")).startsWith("250");
            assertThat(c.command("RCPT TO:<demo@demo.test>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            // Dot-stuffed, written in large chunks as a real client does.
            ByteArrayOutputStream stuffed = new ByteArrayOutputStream(message.length + 1024);
            boolean lineStart = true;
            for (byte b : message) {
                if (lineStart && b == '.') {
                    stuffed.write('.');
                }
                stuffed.write(b);
                lineStart = b == '\n';
            }
            stuffed.writeBytes(".\r\n".getBytes(StandardCharsets.US_ASCII));
            c.output().write(stuffed.toByteArray());
            c.output().flush();
            assertThat(c.readLine()).startsWith("250 ");
            assertThat(c.command("QUIT")).startsWith("221");
        }
        assertThat(sha256(backend.mailbox().messages().get(1))).isEqualTo(sha256(message));
    }

    @Test
    void deniedClientSeesNoTlsAndTheBackendSeesNothing() throws Exception {
        startAll("    access:\n      allow: [127.0.0.1]\n");
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
            s.connect(gateway.address("pop3s"));
            s.setSoTimeout(10_000);
            // The start of a ClientHello: the gateway must not answer a single byte. It closes with these bytes
            // unread, so the kernel may send a reset instead of a FIN; either way nothing was received.
            s.getOutputStream().write(new byte[]{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00});
            assertThat(bytesUntilClosed(s)).isZero();
        }
        try (LineClient allowed = new LineClient(gateway.tls("pop3s"))) {
            assertThat(allowed.readLine()).startsWith("+OK");
        }
        assertThat(backend.connections()).isEqualTo(1); // the allowed client only
        assertThat(gateway.counter("gatehouse.connections.rejected", "rule", "pop3s", "reason", "not-allowed"))
                .isEqualTo(1);
        assertThat(gateway.counter("gatehouse.connections.accepted", "rule", "pop3s")).isEqualTo(1);
    }

    @Test
    void denyListWinsOverTheAllowList() throws Exception {
        startAll("    access:\n      allow: [127.0.0.0/8]\n      deny: [127.0.0.3]\n");
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.3"), 0));
            s.connect(gateway.address("imaps"));
            s.setSoTimeout(10_000);
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(gateway.counter("gatehouse.connections.rejected", "rule", "imaps", "reason", "deny-list"))
                .isEqualTo(1);
        assertThat(backend.connections()).isZero();
    }

    @Test
    void backendDownGivesEachProtocolsOwnError() throws Exception {
        int deadPort = TestRules.freePort();
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + "rules:\n"
                + TestRules.rule("pop3s", "pop3", "implicit", "127.0.0.1:" + deadPort)
                + TestRules.rule("imaps", "imap", "implicit", "127.0.0.1:" + deadPort)
                + TestRules.rule("smtps", "smtp", "implicit", "127.0.0.1:" + deadPort)
                + TestRules.rule("tcps", "tcp", "implicit", "127.0.0.1:" + deadPort));
        assertThat(firstLineThenEnd("pop3s"))
                .isEqualTo("-ERR [SYS/TEMP] Service temporarily unavailable, try again later");
        assertThat(firstLineThenEnd("imaps"))
                .isEqualTo("* BYE [UNAVAILABLE] Service temporarily unavailable, try again later");
        assertThat(firstLineThenEnd("smtps"))
                .isEqualTo("421 4.3.2 Service temporarily unavailable, closing transmission channel");
        assertThat(firstLineThenEnd("tcps")).isNull();
        assertThat(gateway.counter("gatehouse.connections.rejected", "rule", "smtps", "reason", "no-backend"))
                .isEqualTo(1);
        assertThat(gateway.counter("gatehouse.backend.connect.failures", "rule", "smtps", "backend",
                "127.0.0.1:" + deadPort))
                .isEqualTo(1);
    }

    @Test
    void nextBackendIsTriedWhenTheFirstRefuses() throws Exception {
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + "rules:\n"
                + TestRules.rule("pop3s", "pop3", "implicit",
                        "127.0.0.1:" + TestRules.freePort() + "\", \"" + backendOf(Protocol.POP3)));
        try (LineClient c = new LineClient(gateway.tls("pop3s"))) {
            assertThat(c.readLine()).startsWith("+OK Gatehouse DEMO POP3");
        }
    }

    @Test
    void ipv6ListenerServesClients() throws Exception {
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + """
                rules:
                  - name: pop3s6
                    listen: ["[::1]:0"]
                    protocol: pop3
                    certificate: test
                    backend: ["%s"]
                    access:
                      allow: ["::1"]
                """.formatted(backendOf(Protocol.POP3)));
        assertThat(gateway.address("pop3s6").getAddress().getAddress()).hasSize(16);
        try (LineClient c = new LineClient(gateway.tls("pop3s6"))) {
            assertThat(c.readLine()).startsWith("+OK Gatehouse DEMO POP3");
            assertThat(c.command("QUIT")).startsWith("+OK");
        }
    }

    @Test
    void startingIsAllOrNothingWhenAPortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int free = TestRules.freePort();
            String yaml = TestGateway.CERTIFICATES + "rules:\n"
                    + TestRules.rule("first", "pop3", "none", backendOf(Protocol.POP3)).replace("127.0.0.1:0",
                            "127.0.0.1:" + free)
                    + TestRules.rule("second", "pop3", "none", backendOf(Protocol.POP3))
                            .replace("127.0.0.1:0", "127.0.0.1:" + taken.getLocalPort());
            assertThatThrownBy(() -> TestGateway.start(dir, yaml))
                    .isInstanceOf(GatewayException.class)
                    .hasMessageContaining("rule second: cannot listen on 127.0.0.1:" + taken.getLocalPort());
            // The first listener was bound, then released: its port is free again.
            try (ServerSocket again = new ServerSocket(free, 1, InetAddress.getLoopbackAddress())) {
                assertThat(again.getLocalPort()).isEqualTo(free);
            }
        }
    }

    /** How many bytes arrive before the peer closes (by FIN or by reset). */
    private static int bytesUntilClosed(Socket s) throws IOException {
        int count = 0;
        try {
            while (s.getInputStream().read() != -1) {
                count++;
            }
        } catch (SocketException reset) {
            assertThat(reset.getMessage()).contains("reset");
        }
        return count;
    }

    private String firstLineThenEnd(String rule) throws IOException {
        try (LineClient c = new LineClient(gateway.tls(rule))) {
            String first = c.readLine();
            assertThat(c.readLine()).isNull();
            return first;
        }
    }

    /** Text lines of random printable bytes, some starting with '.', CRLF-terminated, about {@code size} bytes. */
    static byte[] bigMessage(int size, long seed) {
        Random random = new Random(seed);
        ByteArrayOutputStream out = new ByteArrayOutputStream(size + 100);
        out.writeBytes("Subject: big\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        while (out.size() < size) {
            int length = random.nextInt(120);
            for (int i = 0; i < length; i++) {
                out.write(i == 0 && random.nextInt(10) == 0 ? '.' : 32 + random.nextInt(95));
            }
            out.write('\r');
            out.write('\n');
        }
        return out.toByteArray();
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
