package org.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mail server that ends its side (after QUIT here) is done with the session: the gateway closes its connection at
 * once, delivers its last answer and the end of the stream to the client, and leaves the client's connection for the
 * client to end, within a grace: a client that sends more, or never ends its side, is closed by the gateway. A tcp rule keeps passing half-closes through both ways ({@link HalfCloseTest}).
 */
class MailServerEndTest {

    @TempDir
    Path dir;

    private ServerSocket backend;
    /** What the backend's read returned after it ended its side: -1 once the gateway closed the connection. */
    private CompletableFuture<Integer> backendReadAfterItsEnd;
    private TestGateway gateway;

    /** A POP3 server that greets, answers QUIT, ends its output (a FIN) and then keeps reading. */
    @BeforeEach
    void start() throws Exception {
        backend = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        backendReadAfterItsEnd = CompletableFuture.supplyAsync(() -> {
            try (Socket s = backend.accept()) {
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                out.write("+OK ready\r\n".getBytes(StandardCharsets.US_ASCII));
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.US_ASCII));
                assertThat(in.readLine()).isEqualTo("QUIT");
                out.write("+OK bye\r\n".getBytes(StandardCharsets.US_ASCII));
                s.shutdownOutput();
                return in.read();
            } catch (SocketTimeoutException e) {
                return -2; // the gateway kept the connection open
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + "rules:\n"
                + TestRules.rule("pop3s", "pop3", "implicit", "127.0.0.1:" + backend.getLocalPort()));
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
        backend.close();
    }

    /** Greeting, QUIT, the server's answer and the end of the stream; the server's connection is closed by then. */
    private static void quitAndSeeTheEnd(SSLSocket client, CompletableFuture<Integer> backendRead) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(),
                StandardCharsets.US_ASCII));
        assertThat(in.readLine()).isEqualTo("+OK ready");
        client.getOutputStream().write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
        client.getOutputStream().flush();
        assertThat(in.readLine()).isEqualTo("+OK bye");
        assertThat(in.read()).as("the end of the stream after the server's last answer").isEqualTo(-1);
        assertThat(backendRead.get(30, TimeUnit.SECONDS))
                .as("the server's connection closed while the client still holds its own").isEqualTo(-1);
    }

    @Test
    void theServersConnectionClosesAtOnceAndTheClientEndsItsOwn() throws Exception {
        try (SSLSocket client = gateway.tls("pop3s")) {
            quitAndSeeTheEnd(client, backendReadAfterItsEnd);
            assertThat(activeConnections()).as("the client's connection is the client's to end").isEqualTo(1);
        }
        Eventually.until("the client's close ends its connection", () -> activeConnections() == 0);
    }

    @Test
    void aClientThatSendsMoreAfterTheServersEndIsClosedAtOnce() throws Exception {
        try (SSLSocket client = gateway.tls("pop3s")) {
            quitAndSeeTheEnd(client, backendReadAfterItsEnd);
            client.getOutputStream().write("NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();
            Eventually.until("the gateway closes the connection, no server being left to answer",
                    () -> activeConnections() == 0);
        }
    }

    @Test
    void aClientThatNeverEndsItsSideIsClosedAfterTheGrace() throws Exception {
        try (SSLSocket client = gateway.tls("pop3s")) {
            quitAndSeeTheEnd(client, backendReadAfterItsEnd);
            long ended = System.nanoTime();
            Eventually.until("the gateway closes the connection after the grace", () -> activeConnections() == 0);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - ended))
                    .as("not before the grace (it is a bound, not a timing: the check is only that it waited)")
                    .isGreaterThanOrEqualTo(RelayHandler.SERVER_END_GRACE_MILLIS - 1_000);
        }
    }

    private double activeConnections() {
        return gateway.registry().get("gatehouse.connections.active").tag("rule", "pop3s").gauge().value();
    }
}
