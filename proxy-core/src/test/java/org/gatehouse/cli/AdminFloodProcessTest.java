package org.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gatehouse run} as a real process with little direct memory (16 MiB), its admin endpoint flooded by clients that
 * pipeline {@code GET /metrics} without reading, while a POP3 client downloads messages through it: the downloads are
 * complete and byte-exact, and no memory failure is logged.
 */
class AdminFloodProcessTest {

    private static final int MESSAGE_BYTES = 8 * 1024 * 1024;

    @TempDir
    Path dir;

    private ServerSocket backend;
    private Thread backendThread;
    private Process process;
    private Path output;
    private int pop3Port;
    private int adminPort;
    private final List<Socket> attackers = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        backendThread = new Thread(this::serveBackend, "big-message-backend");
        backendThread.setDaemon(true);
        backendThread.start();
        pop3Port = TestRules.freePort();
        adminPort = TestRules.freePort();
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, """
                admin: { listen: "127.0.0.1:%d" }
                rules:
                  - name: pop3
                    listen: ["127.0.0.1:%d"]
                    protocol: pop3
                    tls: none
                    login: plaintext-allowed
                    backend: ["127.0.0.1:%d"]
                """.formatted(adminPort, pop3Port, backend.getLocalPort()));
        output = dir.resolve("output.txt");
        process = new ProcessBuilder(
                MainProcess.commandFromJars(dir, List.of("-Xmx192m", "-XX:MaxDirectMemorySize=16m"),
                        "run", "--rules", rules.toString()))
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        MainProcess.awaitStarted(process, this::output);
    }

    @AfterEach
    void stop() throws Exception {
        for (Socket s : attackers) {
            s.close();
        }
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        backend.close();
    }

    private String output() {
        try {
            return Files.readString(output);
        } catch (IOException e) {
            return "";
        }
    }

    /** A POP3 server with one message of {@link #MESSAGE_BYTES} bytes, any user, any password. */
    private void serveBackend() {
        while (!backend.isClosed()) {
            try {
                Socket s = backend.accept();
                Thread t = new Thread(() -> session(s), "big-message-session");
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private static void session(Socket s) {
        try (s; LineClient c = new LineClient(s)) {
            c.send("+OK big ready");
            String line;
            while ((line = c.readLine()) != null) {
                if (line.startsWith("RETR")) {
                    OutputStream out = c.output();
                    out.write("+OK message follows\r\n".getBytes(StandardCharsets.US_ASCII));
                    byte[] row = ("x".repeat(1022) + "\r\n").getBytes(StandardCharsets.US_ASCII);
                    for (int i = 0; i < MESSAGE_BYTES / row.length; i++) {
                        out.write(row);
                    }
                    out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } else if (line.startsWith("QUIT")) {
                    c.send("+OK bye");
                    return;
                } else {
                    c.send("+OK");
                }
            }
        } catch (IOException e) {
            // the client left
        }
    }

    private void pipelineWithoutReading() throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), adminPort), 5_000);
        attackers.add(s);
        byte[] requests = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20000).getBytes(StandardCharsets.US_ASCII);
        Thread writer = new Thread(() -> {
            try {
                s.getOutputStream().write(requests);
            } catch (IOException closed) {
                // the test ends
            }
        }, "admin-attacker");
        writer.setDaemon(true);
        writer.start();
    }

    /** RETR through the gateway; the number of message bytes received before the terminating dot. */
    private long download() throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), pop3Port)) {
            socket.setSoTimeout(20_000);
            LineClient c = new LineClient(socket);
            assertThat(c.readLine()).isEqualTo("+OK big ready");
            assertThat(c.command("USER alice")).isEqualTo("+OK");
            assertThat(c.command("PASS secret")).isEqualTo("+OK");
            assertThat(c.command("RETR 1")).isEqualTo("+OK message follows");
            long bytes = 0;
            String line;
            while ((line = c.readLine()) != null && !line.equals(".")) {
                bytes += line.length() + 2;
            }
            return bytes;
        }
    }

    @Test
    void anAdminClientPipeliningWithoutReadingCostsTheRelayNothing() throws Exception {
        assertThat(download()).as("before the attack").isEqualTo(MESSAGE_BYTES / 1024 * 1024);
        for (int i = 0; i < 3; i++) {
            pipelineWithoutReading();
        }
        // Downloads all along the attack, while answers would pile up (were they let to) until memory runs out.
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
        int downloads = 0;
        while (System.nanoTime() < end) {
            long got;
            try {
                got = download();
            } catch (IOException e) {
                got = -1;
            }
            assertThat(got).as("download " + (downloads + 1) + " during the attack")
                    .isEqualTo(MESSAGE_BYTES / 1024 * 1024);
            downloads++;
        }
        assertThat(downloads).isPositive();
        assertThat(process.isAlive()).isTrue();
        assertThat(output()).doesNotContain("OutOfMemoryError", "out of memory", "OutOfDirectMemoryError");
    }
}
