package org.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Half-close passes through: a client that ends its side still gets the backend's answer, and a backend that ends its
 * side after answering still has its last bytes delivered before the client sees the end.
 */
class HalfCloseTest {

    @TempDir
    Path dir;

    private ServerSocket backend;
    private CompletableFuture<String> backendSaw;
    private TestGateway gateway;

    /**
     * A backend that reads until the client's end of stream (or, for a client that sends a line ending in '!', until
     * that line), then answers with what it got and closes.
     */
    @BeforeEach
    void startBackend() throws Exception {
        backend = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        backendSaw = CompletableFuture.supplyAsync(() -> {
            try (Socket s = backend.accept()) {
                s.setSoTimeout(20_000);
                ByteArrayOutputStream in = new ByteArrayOutputStream();
                int b;
                while ((b = s.getInputStream().read()) != -1) {
                    in.write(b);
                    if (b == '!') {
                        break;
                    }
                }
                String got = in.toString(StandardCharsets.US_ASCII);
                s.getOutputStream()
                        .write(("got " + got.length() + " bytes: " + got).getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                return got;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        backend.close();
    }

    private void startGateway(String tls) throws Exception {
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + "rules:\n"
                + TestRules.rule("tcp", "tcp", tls, "127.0.0.1:" + backend.getLocalPort()));
    }

    @Test
    void clientFinReachesTheBackendAndTheAnswerStillComesBack() throws Exception {
        startGateway("none");
        try (Socket client = gateway.plain("tcp")) {
            client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            assertThat(backendSaw.get(20, TimeUnit.SECONDS)).isEqualTo("hello");
            assertThat(readToEnd(client.getInputStream())).isEqualTo("got 5 bytes: hello");
        }
    }

    @Test
    void clientCloseNotifyReachesTheBackendAsEndOfStream() throws Exception {
        startGateway("implicit");
        try (SSLSocket client = gateway.tls("tcp", "TLSv1.3")) {
            client.getOutputStream().write("hello over tls".getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();
            client.shutdownOutput(); // TLS 1.3 close_notify, the socket stays open for reading
            assertThat(backendSaw.get(20, TimeUnit.SECONDS)).isEqualTo("hello over tls");
        }
    }

    @Test
    void backendCloseDeliversItsLastBytesThenEndsTheTlsStream() throws Exception {
        startGateway("implicit");
        try (SSLSocket client = gateway.tls("tcp")) {
            client.getOutputStream().write("bye!".getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();
            // The backend answers and closes at once; its answer must not be lost in the close.
            assertThat(readToEnd(client.getInputStream())).isEqualTo("got 4 bytes: bye!");
        }
    }

    private static String readToEnd(InputStream in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toString(StandardCharsets.US_ASCII);
    }
}
