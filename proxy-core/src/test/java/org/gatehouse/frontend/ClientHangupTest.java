package org.gatehouse.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.FakeBackend;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.OpenFiles;
import org.gatehouse.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connect-and-hang-up floods, over real sockets: clients that connect and send a FIN (or a reset) while the gateway
 * still waits for them (for their TLS handshake, for their PROXY header, for their name in DNS) give back their slot at
 * once, so that a legitimate client right behind them is served although the waits are long and the slots few.
 */
class ClientHangupTest {

    /** Many more than any rule below has slots for. */
    private static final int FLOOD = 300;

    @TempDir
    Path dir;

    private FakeBackend backend;
    private FakeBackend deaf;
    private DatagramSocket deadDns;
    private TestGateway gateway;
    private final List<Socket> flood = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        backend = FakeBackend.start("backend", FakeBackend.Mode.GREET);
        deaf = FakeBackend.start("deaf", FakeBackend.Mode.GREET_AND_IGNORE_END);
        deadDns = new DatagramSocket(0, InetAddress.getLoopbackAddress()); // reads nothing, answers nothing
        int baseline = OpenFiles.count();
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + """
                dns: { servers: ["127.0.0.1:%2$d"], timeout: 60s }
                clientSets:
                  partners: { domains: [partner.example] }
                limits: { maxConnections: 50, handshakeTimeout: 60s }
                rules:
                  - { name: pop3s, listen: ["127.0.0.1:0"], protocol: pop3, certificate: test, backend: ["%1$s"] }
                  - name: behind-lb
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    acceptProxyProtocol: { from: [127.0.0.1/32] }
                    backend: ["%1$s"]
                  - name: partners
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    access: { allow: [partners] }
                    backend: ["%1$s"]
                  - { name: probe, listen: ["127.0.0.1:0"], protocol: pop3, tls: none, backend: ["%1$s"] }
                  - { name: plain, listen: ["127.0.0.1:0"], protocol: pop3, tls: none, backend: ["%3$s"] }
                """.formatted(backend.hostPort(), deadDns.getLocalPort(), deaf.hostPort()));
        LogCapture.clear();
        assertThat(baseline).isNotZero();
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : flood) {
            s.close();
        }
        gateway.close();
        backend.close();
        deaf.close();
        deadDns.close();
    }

    private double active(String rule) {
        var gauge = gateway.registry().find("gatehouse.connections.active").tag("rule", rule).gauge();
        return gauge == null ? 0 : gauge.value();
    }

    /** Half the flood sends a FIN and keeps its socket (the server side sits in CLOSE-WAIT), half resets. */
    private void flood(String rule) throws IOException {
        InetSocketAddress at = gateway.address(rule);
        for (int i = 0; i < FLOOD; i++) {
            Socket s = new Socket(at.getAddress(), at.getPort());
            if (i % 2 == 0) {
                s.shutdownOutput();
                flood.add(s);
            } else {
                s.setSoLinger(true, 0);
                s.close();
            }
        }
    }

    private double abandoned(String rule, String stage) {
        return gateway.counter("gatehouse.connections.abandoned", "rule", rule, "stage", stage);
    }

    /** Every FIN of the flood counted (the resets too, mostly), and no connection of the rule left open. */
    private void untilFloodIsGone(String rule, String stage) throws InterruptedException {
        Eventually.until("every hung-up client is gone from " + rule, () -> abandoned(rule, stage) >= FLOOD / 2.0
                && active(rule) == 0);
    }

    private static List<String> stackTraces() {
        return LogCapture.lines().stream().filter(l -> l.contains(" | ")).toList();
    }

    @Test
    void connectThenFinOnAnImplicitTlsRuleGivesTheSlotBackAtOnce() throws Exception {
        int before = OpenFiles.count();
        flood("pop3s");
        untilFloodIsGone("pop3s", "tls-handshake");

        try (LineClient probe = new LineClient(gateway.tls("pop3s"))) {
            assertThat(probe.readLine()).isEqualTo("+OK backend ready");
            assertThat(probe.command("QUIT")).isEqualTo("+OK backend bye");
        }
        Eventually.until("the probe is gone too", () -> active("pop3s") == 0);
        for (Socket s : flood) {
            s.close();
        }
        flood.clear();
        OpenFiles.until("the gateway holds no socket of the flood", before + 10);
        assertThat(stackTraces()).isEmpty();
        assertThat(LogCapture.lines()).anySatisfy(l -> assertThat(l).contains("clients hung up before")
                .contains("rule=pop3s"));
    }

    @Test
    void connectThenFinOnAPlaintextMailRuleGivesTheSlotBackAtOnceWhateverTheBackendDoes() throws Exception {
        flood("plain");
        // The backend ignores a half-close: only the gateway can end these sessions. A FIN before the backend
        // connection is in place leaves no session to pass it on to; one after it, before login, gets a short grace.
        // (One whose backend connection won the race with its FIN has the pre-login half-close grace, 5 s.)
        Eventually.until("every hung-up client is gone from plain", () -> active("plain") == 0);
        assertThat(stackTraces()).isEmpty();
    }

    @Test
    void connectThenFinBeforeThePROXYHeaderGivesTheSlotBackAtOnce() throws Exception {
        flood("behind-lb");
        untilFloodIsGone("behind-lb", "proxy-header");
        assertThat(stackTraces()).isEmpty();
    }

    @Test
    void connectThenFinWhileDnsIsSilentGivesTheSlotBackAtOnce() throws Exception {
        flood("partners");
        untilFloodIsGone("partners", "access");
        try (LineClient probe = new LineClient(gateway.plain("probe"))) {
            assertThat(probe.readLine()).isEqualTo("+OK backend ready");
        }
        assertThat(stackTraces()).isEmpty();
    }
}
