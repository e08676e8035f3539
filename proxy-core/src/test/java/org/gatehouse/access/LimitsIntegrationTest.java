package org.gatehouse.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.FakeBackend;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits, timeouts and the PROXY protocol from a load balancer, over real sockets from several 127.0.0.x addresses.
 */
class LimitsIntegrationTest {

    private static final String OVER = "-ERR [SYS/TEMP] Too many connections, try again later";

    @TempDir
    Path dir;

    private FakeBackend backend;
    private TestGateway gateway;
    private final List<LineClient> open = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        backend = FakeBackend.start("backend", FakeBackend.Mode.GREET);
        String b = backend.hostPort();
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + """
                limits: { maxConnectionsPerClient: 2 }
                rules:
                  - { name: per-client, listen: ["127.0.0.1:0"], protocol: pop3, tls: none, backend: ["%1$s"] }
                  - name: rule-wide
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    backend: ["%1$s"]
                    limits: { maxConnections: 3, maxConnectionsPerClient: 0 }
                  - name: rate
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    backend: ["%1$s"]
                    limits: { connectionRatePerClient: 3/min, maxConnectionsPerClient: 0 }
                  - name: tls-limited
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    certificate: test
                    backend: ["%1$s"]
                    limits: { maxConnectionsPerClient: 1, handshakeTimeout: 500ms }
                  - name: idle
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    backend: ["%1$s"]
                    limits: { idleTimeout: 1s }
                  - name: behind-lb
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    backend: ["%1$s"]
                    acceptProxyProtocol: { from: [127.0.0.2/32] }
                    access: { allow: [198.51.100.0/24] }
                    limits: { handshakeTimeout: 500ms }
                """.formatted(b));
        LogCapture.clear();
    }

    @AfterEach
    void stop() throws IOException {
        for (LineClient c : open) {
            c.close();
        }
        gateway.close();
        backend.close();
    }

    private Socket socketFrom(String rule, String client) throws IOException {
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(client, 0));
        socket.connect(gateway.address(rule), 10_000);
        socket.setSoTimeout(20_000);
        return socket;
    }

    /** The first line a new client from {@code client} gets; the connection stays open until the test ends. */
    private String connect(String rule, String client) throws IOException {
        LineClient c = new LineClient(socketFrom(rule, client));
        open.add(c);
        return c.readLine();
    }

    /** True when the gateway closed the connection without sending anything (a FIN, or a reset for unread input). */
    private static boolean closedWithoutAByte(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        try {
            return in.read() == -1;
        } catch (SocketException reset) {
            return true;
        }
    }

    @Test
    void aClientOverItsOwnLimitIsToldToComeBackLaterWhileOthersGetIn() throws Exception {
        assertThat(connect("per-client", "127.0.0.2")).startsWith("+OK backend");
        assertThat(connect("per-client", "127.0.0.2")).startsWith("+OK backend");
        assertThat(connect("per-client", "127.0.0.2")).isEqualTo(OVER);
        assertThat(connect("per-client", "127.0.0.3")).as("another client is unaffected").startsWith("+OK backend");
        assertThat(gateway.counter("gatehouse.connections.rejected", "rule", "per-client", "reason",
                "max-connections-per-client")).isEqualTo(1);

        open.get(0).close();
        Eventually.until("the closed connection's slot is free", () -> {
            try (LineClient c = new LineClient(socketFrom("per-client", "127.0.0.2"))) {
                return c.readLine().startsWith("+OK backend");
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    void aRuleFullOfConnectionsRefusesTheNextOneWhoeverItIs() throws Exception {
        for (String client : List.of("127.0.0.2", "127.0.0.3", "127.0.0.4")) {
            assertThat(connect("rule-wide", client)).startsWith("+OK backend");
        }
        assertThat(connect("rule-wide", "127.0.0.5")).isEqualTo(OVER);
        assertThat(connect("per-client", "127.0.0.5")).as("other rules are unaffected").startsWith("+OK backend");
        assertThat(gateway.counter("gatehouse.connections.rejected", "rule", "rule-wide", "reason", "max-connections"))
                .isEqualTo(1);
    }

    /**
     * The rate rule turns the top-level cap of two open connections off: the gateway frees a slot only when it has
     * seen the client's close, after the client's {@code close()} returns, so under load the cap could refuse the
     * third of these sequential connections and hide what this test is about.
     */
    @Test
    void aClientConnectingTooOftenIsRefusedUntilItsRateAllowsAgain() throws Exception {
        for (int i = 0; i < 3; i++) {
            try (LineClient c = new LineClient(socketFrom("rate", "127.0.0.6"))) {
                assertThat(c.readLine()).startsWith("+OK backend");
            }
        }
        assertThat(connect("rate", "127.0.0.6")).isEqualTo(OVER);
        assertThat(connect("rate", "127.0.0.7")).startsWith("+OK backend");
        assertThat(gateway.counter("gatehouse.connections.rejected", "rule", "rate", "reason", "connection-rate"))
                .isEqualTo(1);
        Eventually.until("the access line says why", () -> LogCapture.lines().stream()
                .anyMatch(
                        l -> l.contains("client=127.0.0.6:") && l.contains("outcome=limited reason=connection-rate")));
    }

    @Test
    void overTheLimitOnImplicitTlsTheAnswerComesOverTls() throws Exception {
        try (SSLSocket first = gateway.upgrade(socketFrom("tls-limited", "127.0.0.8"));
                SSLSocket second = gateway.upgrade(socketFrom("tls-limited", "127.0.0.8"));
                LineClient one = new LineClient(first);
                LineClient two = new LineClient(second)) {
            assertThat(one.readLine()).startsWith("+OK backend");
            assertThat(two.readLine()).isEqualTo(OVER);
            assertThat(two.readLine()).isNull();
        }
    }

    @Test
    void aClientThatNeverFinishesItsHandshakeIsClosedAtTheTimeout() throws Exception {
        try (Socket slow = socketFrom("tls-limited", "127.0.0.9")) {
            slow.getOutputStream().write(new byte[]{0x16, 0x03, 0x01}); // the start of a ClientHello, then nothing
            assertThat(slow.getInputStream().read()).as("closed, with no bytes or just an alert").isIn(-1, 0x15);
        }
        Eventually.until("the timeout is counted", () -> gateway.counter("gatehouse.tls.handshake.failures", "rule",
                "tls-limited", "reason", "timeout") == 1);
    }

    @Test
    void aConnectionIdleBothWaysIsClosedAtTheIdleTimeout() throws Exception {
        try (LineClient c = new LineClient(socketFrom("idle", "127.0.0.10"))) {
            assertThat(c.readLine()).startsWith("+OK backend");
            assertThat(c.readLine()).as("closed by the gateway after 1 s of silence").isNull();
        }
        Eventually.until("the idle close is counted", () -> gateway.counter("gatehouse.connections.idle.closed",
                "rule", "idle") == 1);
        Eventually.until("the access line says why", () -> LogCapture.lines().stream()
                .anyMatch(l -> l.contains("client=127.0.0.10:") && l.contains("outcome=idle-timeout")));
    }

    @Test
    void aTrustedLoadBalancersProxyHeaderNamesTheClient() throws Exception {
        try (Socket lb = socketFrom("behind-lb", "127.0.0.2")) {
            OutputStream out = lb.getOutputStream();
            // The header and the client's first command in one write: the command must not be lost.
            out.write("PROXY TCP4 198.51.100.7 127.0.0.1 5555 110\r\nNOOP\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            LineClient c = new LineClient(lb);
            assertThat(c.readLine()).startsWith("+OK backend");
            assertThat(c.readLine()).isEqualTo("+OK backend");
        }
        Eventually.until("the access line",
                () -> LogCapture.lines().stream().anyMatch(l -> l.contains("rule=behind-lb")));
        assertThat(LogCapture.lines()).anyMatch(l -> l.contains("rule=behind-lb client=198.51.100.7:5555 ")
                && l.contains("outcome=closed"));
    }

    @Test
    void aProxyHeaderFromAnyoneElseOrNoValidHeaderClosesTheConnection() throws Exception {
        try (Socket untrusted = socketFrom("behind-lb", "127.0.0.3")) {
            untrusted.getOutputStream()
                    .write("PROXY TCP4 198.51.100.7 127.0.0.1 5555 110\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(closedWithoutAByte(untrusted)).isTrue();
        }
        try (Socket noHeader = socketFrom("behind-lb", "127.0.0.2")) {
            noHeader.getOutputStream().write("USER alice@example.com\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(closedWithoutAByte(noHeader)).isTrue();
        }
        try (Socket silent = socketFrom("behind-lb", "127.0.0.2")) {
            assertThat(closedWithoutAByte(silent)).as("closed after the 500 ms handshake timeout").isTrue();
        }
        try (Socket outsideAllow = socketFrom("behind-lb", "127.0.0.2")) {
            outsideAllow.getOutputStream().write("PROXY TCP4 203.0.113.9 127.0.0.1 5555 110\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            LineClient c = new LineClient(outsideAllow);
            assertThat(c.readLine()).as("the header's client is checked against the allow list")
                    .isEqualTo("-ERR Access denied");
        }
        for (String reason : List.of("proxy-untrusted", "proxy-header-invalid", "proxy-header-missing",
                "not-allowed")) {
            Eventually.until(reason, () -> gateway.counter("gatehouse.connections.rejected", "rule", "behind-lb",
                    "reason", reason) == 1);
        }
        assertThat(backend.accepted()).as("no refused connection reached the backend").isZero();
    }
}
