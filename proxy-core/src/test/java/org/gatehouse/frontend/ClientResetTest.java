package org.gatehouse.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.net.ssl.SSLSocket;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.FakeBackend;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that resets its connection in the middle of a session (as one that closes with data unread does) has its
 * connection closed at once, with nothing more written to it, and its access line says why.
 */
class ClientResetTest {

    @TempDir
    Path dir;

    private FakeBackend backend;
    private TestGateway gateway;

    @BeforeEach
    void start() throws Exception {
        backend = FakeBackend.start("backend", FakeBackend.Mode.GREET);
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + "rules:\n"
                + TestRules.rule("pop3s", "pop3", "implicit", backend.hostPort()));
        LogCapture.clear();
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
        backend.close();
    }

    @Test
    void aResetAfterTheGreetingClosesTheConnectionAndTheAccessLineSaysSo() throws Exception {
        Socket tcp = gateway.plain("pop3s");
        SSLSocket client = gateway.upgrade(tcp);
        BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(),
                StandardCharsets.US_ASCII));
        assertThat(in.readLine()).startsWith("+OK backend");
        tcp.setSoLinger(true, 0);
        tcp.close(); // an RST, and no close_notify (closing the TLS socket would send one first)

        Eventually.until("the connection is closed and logged as a client reset", () -> LogCapture.lines().stream()
                .anyMatch(l -> l.contains("access rule=pop3s") && l.contains("outcome=closed reason=client-reset")));
        assertThat(gateway.registry().get("gatehouse.connections.active").tag("rule", "pop3s").gauge().value())
                .isZero();
    }
}
