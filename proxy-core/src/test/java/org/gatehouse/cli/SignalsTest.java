package org.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gatehouse run} as a real process, stopped and reloaded by real signals: SIGTERM drains, a second SIGTERM exits
 * at once, SIGHUP reloads.
 */
class SignalsTest {

    private static final String GREETING = "+OK Gatehouse DEMO POP3";

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private Process process;
    private Path output;
    private int port;

    @BeforeEach
    void start() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
        InetSocketAddress b = backend.address(Protocol.POP3);
        port = TestRules.freePort();
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, """
                admin: { listen: "127.0.0.1:0" }
                shutdownGracePeriod: 60s
                rules:
                  - name: pop3
                    listen: ["127.0.0.1:%d"]
                    protocol: pop3
                    tls: none
                    login: plaintext-allowed
                    backend: ["%s:%d"]
                """.formatted(port, b.getAddress().getHostAddress(), b.getPort()));
        output = dir.resolve("output.txt");
        process = new ProcessBuilder(MainProcess.command("run", "--rules", rules.toString()))
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        MainProcess.awaitStarted(process, () -> Files.exists(output) ? output() : "");
    }

    @AfterEach
    void stop() throws Exception {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        backend.close();
    }

    private LineClient connect() throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(20_000);
        return new LineClient(socket);
    }

    private boolean refused() {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private String output() throws IOException {
        return Files.readString(output);
    }

    private void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    @Test
    void sigtermStopsAcceptingLetsTheSessionFinishThenExitsZero() throws Exception {
        try (LineClient session = connect()) {
            assertThat(session.readLine()).startsWith(GREETING);

            signal("TERM");

            Eventually.until("new connections are refused", this::refused);
            assertThat(session.command("NOOP")).as("the session goes on during the drain").startsWith("+OK");
            assertThat(process.isAlive()).as("waits for the open session").isTrue();
            assertThat(session.command("QUIT")).startsWith("+OK");
        }
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("exits once the last session ended").isTrue();
        assertThat(process.exitValue()).isZero();
        assertThat(output()).contains("SIGTERM: shutting down gracefully", "draining: stopped accepting", "stopped");
    }

    @Test
    void aSecondSigtermExitsAtOnce() throws Exception {
        try (LineClient session = connect()) {
            assertThat(session.readLine()).startsWith(GREETING);
            signal("TERM");
            Eventually.until("new connections are refused", this::refused);

            signal("TERM");

            assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("exits although a session is open, within 60 s grace")
                    .isTrue();
            assertThat(process.exitValue()).isZero();
            assertThat(session.readLine()).as("the session was cut").isNull();
        }
        assertThat(output()).contains("second SIGTERM: exiting now");
    }

    @Test
    void sighupReloadsTheRules() throws Exception {
        signal("HUP");

        try {
            Eventually.until("the reload is logged", () -> {
                try {
                    return output().contains("reloaded trigger=SIGHUP");
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; the process wrote:\n" + output(), e);
        }
        try (LineClient c = connect()) {
            assertThat(c.readLine()).startsWith(GREETING);
        }
        assertThat(List.of(output().split("\n"))).noneMatch(l -> l.contains("ERROR"));
    }
}
