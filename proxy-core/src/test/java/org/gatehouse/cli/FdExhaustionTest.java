package org.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.FakeBackend;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gatehouse run} as a real process with few file descriptors ({@code ulimit -n}), flooded with more clients
 * than it has descriptors for: accepting and backend sockets fail for a while, which is logged once per interval with
 * a count, never as a stack trace per client or per second; once the flood leaves, a client is served again.
 */
@EnabledOnOs(OS.LINUX)
class FdExhaustionTest {

    private static final int DESCRIPTORS = 512;
    private static final int FLOOD = 700;

    @TempDir
    Path dir;

    private FakeBackend backend;
    private Process process;
    private Path output;
    private int port;
    private final List<Socket> flood = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        backend = FakeBackend.start("backend", FakeBackend.Mode.GREET);
        port = TestRules.freePort();
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, """
                admin: { enabled: false }
                rules:
                  - name: pop3
                    listen: ["127.0.0.1:%d"]
                    protocol: pop3
                    tls: none
                    backend: ["%s"]
                    limits: { maxPreLoginConnections: 0 }   # else that limit would shed the flood first
                """.formatted(port, backend.hostPort()));
        output = dir.resolve("output.txt");
        List<String> command = new ArrayList<>(List.of("bash", "-c", "ulimit -n " + DESCRIPTORS + " && exec \"$@\"",
                "gatehouse"));
        command.addAll(MainProcess.commandFromJars(dir, List.of(), "run", "--rules", rules.toString()));
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        MainProcess.awaitStarted(process, this::output);
    }

    @AfterEach
    void stop() throws Exception {
        for (Socket s : flood) {
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

    private long openFiles() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(process.pid()), "fd"))) {
            return fds.count();
        }
    }

    @Test
    void runningOutOfDescriptorsIsLoggedOncePerIntervalAndClientsAreServedAgainAfterwards() throws Exception {
        long before = openFiles();
        for (int i = 0; i < FLOOD; i++) {
            flood.add(new Socket(InetAddress.getLoopbackAddress(), port));
        }
        Eventually.until("the gateway ran out of descriptors", () -> {
            try {
                return openFiles() >= DESCRIPTORS - 2;
            } catch (IOException e) {
                return false;
            }
        });
        Thread.sleep(1500); // a second and more of refused accepts: Netty would have logged a stack trace by now
        for (Socket s : flood) {
            s.close();
        }
        flood.clear();

        Eventually.until("a client is served again", () -> {
            try (LineClient probe = new LineClient(new Socket(InetAddress.getLoopbackAddress(), port))) {
                probe.socket().setSoTimeout(5_000);
                return "+OK backend ready".equals(probe.readLine());
            } catch (IOException e) {
                return false;
            }
        });
        Eventually.until("the gateway gave its descriptors back", () -> {
            try {
                return openFiles() <= before + 10;
            } catch (IOException e) {
                return false;
            }
        });
        assertThat(process.isAlive()).isTrue();
        String log = output();
        assertThat(log).doesNotContain("\tat ", "Exception", "channel not registered", "exceptionCaught");
        assertThat(log).contains("out of file descriptors at accept rule=pop3");
        assertThat(log.lines().filter(l -> l.contains("out of file descriptors")).count()).isBetween(1L, 6L);
    }
}
