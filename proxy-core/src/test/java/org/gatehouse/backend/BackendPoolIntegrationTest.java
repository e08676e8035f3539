package org.gatehouse.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.FakeBackend;
import org.gatehouse.testing.FakeBackend.Mode;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backend pools over real sockets, against backends that refuse, hang, reset, go away and come back. */
class BackendPoolIntegrationTest {

    @TempDir
    Path dir;

    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private TestGateway gateway;

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        for (AutoCloseable c : closeLater) {
            c.close();
        }
    }

    private FakeBackend backend(String name, Mode mode) throws IOException {
        FakeBackend b = FakeBackend.start(name, mode);
        closeLater.add(b);
        return b;
    }

    private void start(String backendYaml) throws Exception {
        gateway = TestGateway.start(dir, """
                rules:
                  - name: pop3
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    login: plaintext-allowed
                %s""".formatted(backendYaml.indent(4)));
    }

    private String greeting() throws IOException {
        try (LineClient c = new LineClient(gateway.plain("pop3"))) {
            String line = c.readLine();
            if (line != null && line.startsWith("+OK")) {
                c.command("QUIT");
            }
            return line;
        }
    }

    private double up(FakeBackend b) {
        var gauge = gateway.registry().find("gatehouse.backend.up").tags("rule", "pop3", "backend", b.hostPort())
                .gauge();
        return gauge == null ? Double.NaN : gauge.value();
    }

    @Test
    void aRefusingServerIsSkippedForTheNext() throws Exception {
        int dead = TestRules.freePort();
        FakeBackend good = backend("good", Mode.GREET);
        start("backend: [\"127.0.0.1:%d\", \"%s\"]".formatted(dead, good.hostPort()));

        assertThat(greeting()).isEqualTo("+OK good ready");
        assertThat(
                gateway.counter("gatehouse.backend.connect.failures", "rule", "pop3", "backend", "127.0.0.1:" + dead))
                .isEqualTo(1);
    }

    @Test
    void roundRobinSpreadsConnectionsAndLeastConnectionsAvoidsTheBusyServer() throws Exception {
        FakeBackend a = backend("a", Mode.GREET);
        FakeBackend b = backend("b", Mode.GREET);
        start("""
                backend:
                  servers: ["%s", "%s"]
                  balance: round-robin
                """.formatted(a.hostPort(), b.hostPort()));

        List<String> greetings = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            greetings.add(greeting());
        }
        assertThat(greetings).containsExactly("+OK a ready", "+OK b ready", "+OK a ready", "+OK b ready");

        gateway.close();
        start("""
                backend:
                  servers: ["%s", "%s"]
                  balance: least-connections
                """.formatted(a.hostPort(), b.hostPort()));
        try (LineClient held = new LineClient(gateway.plain("pop3"))) {
            assertThat(held.readLine()).isEqualTo("+OK a ready");
            assertThat(greeting()).as("a is busy with one session").isEqualTo("+OK b ready");
            Eventually.until("b's session has ended",
                    () -> gateway.registry().find("gatehouse.backend.connections.active")
                            .tags("backend", b.hostPort()).gauge().value() == 0);
            assertThat(gateway.registry().find("gatehouse.backend.connections.active").tags("backend", a.hostPort())
                    .gauge()
                    .value()).isEqualTo(1);
            assertThat(greeting()).as("a is still busy").isEqualTo("+OK b ready");
        }
    }

    @Test
    void aServerThatAcceptsButNeverGreetsIsTakenOutByHealthChecksAndClientsGoElsewhere() throws Exception {
        FakeBackend hung = backend("hung", Mode.HANG_AFTER_ACCEPT);
        FakeBackend good = backend("good", Mode.GREET);
        start("""
                backend:
                  servers: ["%s", "%s"]
                  balance: first
                  healthCheck: { interval: 1s, timeout: 200ms, rise: 2, fall: 1 }
                """.formatted(hung.hostPort(), good.hostPort()));

        Eventually.until("health checks take the hung server out", () -> up(hung) == 0);
        assertThat(up(good)).isEqualTo(1);
        int hungBefore = hung.accepted();
        for (int i = 0; i < 3; i++) {
            assertThat(greeting()).isEqualTo("+OK good ready");
        }
        assertThat(hung.accepted() - hungBefore).as("clients never sent to the server that is out")
                .isLessThanOrEqualTo(1); // a health check may have come in between
    }

    @Test
    void aServerThatComesBackIsUsedAgainAfterRiseGoodChecks() throws Exception {
        int port = TestRules.freePort();
        FakeBackend standby = backend("standby", Mode.GREET);
        start("""
                backend:
                  servers: ["127.0.0.1:%d", "%s"]
                  healthCheck: { interval: 1s, timeout: 500ms, rise: 2, fall: 1 }
                """.formatted(port, standby.hostPort()));
        String primary = "127.0.0.1:" + port;
        Eventually.until("the absent primary is out", () -> gateway.registry().find("gatehouse.backend.up")
                .tags("backend", primary).gauge().value() == 0);
        assertThat(greeting()).isEqualTo("+OK standby ready");

        FakeBackend back = FakeBackend.startOn("primary", port, Mode.GREET);
        closeLater.add(back);
        Eventually.until("the primary is back after two good checks",
                () -> gateway.registry().find("gatehouse.backend.up")
                        .tags("backend", primary).gauge().value() == 1);
        assertThat(greeting()).isEqualTo("+OK primary ready");
    }

    @Test
    void withEveryServerOutClientsGetTheTemporaryErrorAtOnce() throws Exception {
        FakeBackend hung = backend("hung", Mode.HANG_AFTER_ACCEPT);
        start("""
                backend:
                  servers: ["%s"]
                  healthCheck: { interval: 1s, timeout: 200ms, fall: 1 }
                """.formatted(hung.hostPort()));
        Eventually.until("the only server is out", () -> up(hung) == 0);

        assertThat(greeting()).startsWith("-ERR [SYS/TEMP]");
        assertThat(gateway.counter("gatehouse.connections.rejected", "rule", "pop3", "reason", "no-backend"))
                .isEqualTo(1);
    }

    @Test
    void aServerThatResetsMidStreamEndsOnlyItsOwnSession() throws Exception {
        FakeBackend flaky = backend("flaky", Mode.RESET_AT_FIRST_COMMAND);
        start("backend: [\"%s\"]".formatted(flaky.hostPort()));

        try (LineClient c = new LineClient(gateway.plain("pop3"))) {
            assertThat(c.readLine()).isEqualTo("+OK flaky ready");
            c.send("NOOP");
            assertThat(c.readLine()).as("the reset reaches the client as a close").isNull();
        }
        flaky.mode(Mode.GREET);

        assertThat(greeting()).as("the gateway serves on").isEqualTo("+OK flaky ready");
    }

    @Test
    void aServerThatGreetsThenHangsPassesHealthChecksButItsSessionsEndAtTheIdleTimeout() throws Exception {
        FakeBackend mute = backend("mute", Mode.HANG_AFTER_GREETING);
        start("backend: { servers: [\"" + mute.hostPort()
                + "\"], healthCheck: { interval: 1s, timeout: 500ms, fall: 1 } }\n"
                + "limits: { idleTimeout: 1s }\n");
        Eventually.until("a health check has run", () -> mute.accepted() >= 1);
        assertThat(up(mute)).as("it greets, so it is up").isEqualTo(1);

        try (LineClient c = new LineClient(gateway.plain("pop3"))) {
            assertThat(c.readLine()).isEqualTo("+OK mute ready");
            c.send("NOOP");
            assertThat(c.readLine()).as("no answer; the gateway closes after 1 s of silence").isNull();
        }
        Eventually.until("the idle close is counted", () -> gateway.counter("gatehouse.connections.idle.closed", "rule",
                "pop3") == 1);
    }

    @Test
    void theBackendLearnsTheClientFromAProxyHeaderV1OrV2() throws Exception {
        FakeBackend v1 = backend("v1", Mode.GREET);
        v1.expectProxyHeader(FakeBackend.ProxyHeader.V1);
        start("backend: { servers: [\"%s\"], sendProxyProtocol: v1 }".formatted(v1.hostPort()));

        Socket client = new Socket();
        client.bind(new InetSocketAddress("127.0.0.5", 0));
        client.connect(gateway.address("pop3"));
        try (LineClient c = new LineClient(client)) {
            assertThat(c.readLine()).isEqualTo("+OK v1 ready");
            assertThat(c.command("NOOP")).isEqualTo("+OK v1");
        }
        assertThat(new String(v1.proxyHeaders().get(0), StandardCharsets.US_ASCII))
                .isEqualTo("PROXY TCP4 127.0.0.5 127.0.0.1 "
                        + client.getLocalPort() + " " + gateway.address("pop3").getPort() + "\r\n");

        FakeBackend v2 = backend("v2", Mode.GREET);
        v2.expectProxyHeader(FakeBackend.ProxyHeader.V2);
        gateway.close();
        start("backend: { servers: [\"%s\"], sendProxyProtocol: v2, healthCheck: { interval: 1s, timeout: 500ms } }"
                .formatted(v2.hostPort()));
        Socket second = new Socket();
        second.bind(new InetSocketAddress("127.0.0.6", 0));
        second.connect(gateway.address("pop3"));
        try (LineClient c = new LineClient(second)) {
            assertThat(c.readLine()).isEqualTo("+OK v2 ready");
        }
        Eventually.until("a health check came in too", () -> v2.proxyHeaders().size() >= 2);
        byte[] proxied = v2.proxyHeaders().stream().filter(h -> h[12] == 0x21).findFirst().orElseThrow();
        assertThat(proxied[13]).as("TCP over IPv4").isEqualTo((byte) 0x11);
        assertThat(Arrays.copyOfRange(proxied, 16, 20)).containsExactly(127, 0, 0, 6);
        assertThat(((proxied[24] & 0xff) << 8) | (proxied[25] & 0xff)).isEqualTo(second.getLocalPort());
        assertThat(v2.proxyHeaders()).anyMatch(h -> h[12] == 0x20).as("health checks send LOCAL");
    }
}
