package org.gatehouse.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
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
 * A STARTTLS slowloris against a backend with a process limit, over real sockets: clients that connect to a
 * plaintext-first rule and trickle bytes without ever logging in take at most the rule's pre-login share of the
 * server's connections, are shed with their protocol's temporary error after the pre-login idle timeout, and a client
 * of another rule to the same server is served meanwhile.
 */
class PreLoginLimitsTest {

    /** What the backend serves at once, as Dovecot's login process_limit. */
    private static final int SERVER_LIMIT = 20;
    private static final int ATTACKERS = 60;

    @TempDir
    Path dir;

    private FakeBackend backend;
    private TestGateway gateway;
    private final List<Socket> open = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @BeforeEach
    void start() throws Exception {
        backend = FakeBackend.startLimited("backend", FakeBackend.Mode.GREET, SERVER_LIMIT);
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + """
                rules:
                  - name: attacked
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: starttls
                    certificate: test
                    backend: ["%1$s"]
                    limits: { maxPreLoginConnections: 10, preLoginIdleTimeout: 3s }
                  - name: other
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    login: plaintext-allowed
                    backend: ["%1$s"]
                    limits: { maxPreLoginConnections: 1, preLoginIdleTimeout: 1s }
                """.formatted(backend.hostPort()));
        LogCapture.clear();
    }

    @AfterEach
    void stop() throws IOException {
        threads.shutdownNow();
        for (Socket s : open) {
            s.close();
        }
        gateway.close();
        backend.close();
    }

    private double gauge(String name, String rule) {
        var gauge = gateway.registry().find(name).tag("rule", rule).gauge();
        return gauge == null ? 0 : gauge.value();
    }

    /** A client that connects, then sends one byte at a time, every 500 ms, never a whole line; returns what it read. */
    private Future<String> slowloris() throws IOException {
        Socket socket = gateway.plain("attacked");
        open.add(socket);
        socket.setSoTimeout(500);
        return threads.submit(() -> {
            StringBuilder got = new StringBuilder();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < deadline) {
                try {
                    int b = socket.getInputStream().read();
                    if (b < 0) {
                        return got.toString();
                    }
                    got.append((char) b);
                } catch (SocketTimeoutException quiet) {
                    try {
                        socket.getOutputStream().write('N');
                    } catch (IOException closed) {
                        return got.toString();
                    }
                } catch (IOException reset) {
                    return got.toString();
                }
            }
            return got.toString();
        });
    }

    @Test
    void aStarttlsSlowlorisTakesAtMostItsShareOfTheServerAndIsShedWhileAnotherRuleIsServed() throws Exception {
        List<Future<String>> attackers = new ArrayList<>();
        for (int i = 0; i < ATTACKERS; i++) {
            attackers.add(slowloris());
        }
        Eventually.until("the attackers hold the pre-login slots", () -> gauge("gatehouse.connections.pre.login",
                "attacked") == 10);

        try (LineClient probe = new LineClient(gateway.plain("other"))) {
            probe.socket().setSoTimeout(5_000);
            assertThat(probe.readLine()).isEqualTo("+OK backend ready");
            assertThat(probe.command("QUIT")).isEqualTo("+OK backend bye");
        }

        int shedAtOnce = 0;
        int shedIdle = 0;
        for (Future<String> a : attackers) {
            String got = a.get(30, TimeUnit.SECONDS);
            if (got.startsWith("-ERR [SYS/TEMP] Too many connections waiting to log in")) {
                shedAtOnce++;
            } else {
                assertThat(got).startsWith("+OK backend ready\r\n")
                        .endsWith("-ERR [SYS/TEMP] Idle too long before logging in, try again later\r\n");
                shedIdle++;
            }
        }
        assertThat(shedIdle).isEqualTo(10);
        assertThat(shedAtOnce).isEqualTo(ATTACKERS - 10);
        Eventually.until("no attacker is left", () -> gauge("gatehouse.connections.active", "attacked") == 0
                && gauge("gatehouse.connections.pre.login", "attacked") == 0);
        assertThat(gateway.counter("gatehouse.connections.rejected", "rule", "attacked", "reason",
                "max-pre-login-connections")).isEqualTo(ATTACKERS - 10);
        assertThat(gateway.counter("gatehouse.connections.pre.login.idle.closed", "rule", "attacked")).isEqualTo(10);
        assertThat(LogCapture.lines()).noneMatch(l -> l.contains(" | "));
        // Besides one access line per client: two lines for the two kinds of shedding, not one per client.
        assertThat(LogCapture.lines().stream().filter(l -> l.startsWith("gatehouse.connections ")).toList())
                .hasSize(2).anySatisfy(l -> assertThat(l).contains("turned clients away").contains("rule=attacked"))
                .anySatisfy(l -> assertThat(l).contains("closed clients idle before logging in rule=attacked"));
    }

    @Test
    void anSmtpClientThatSendsMailIsPastLoginAsFarAsTheCapAndTheTimeoutAreConcerned() throws Exception {
        try (DemoMailServer demo = DemoMailServer.start(Transport.detect());
                TestGateway smtp = TestGateway.start(Files.createDirectories(dir.resolve("smtp")), """
                        rules:
                          - name: mx
                            listen: ["127.0.0.1:0"]
                            protocol: smtp
                            tls: none
                            backend: ["127.0.0.1:%d"]
                            limits: { maxPreLoginConnections: 1, preLoginIdleTimeout: 1s }
                        """.formatted(demo.address(Protocol.SMTP).getPort()));
                LineClient mx = new LineClient(smtp.plain("mx"))) {
            assertThat(mx.readLine()).startsWith("220 ");
            mx.send("EHLO client.example");
            String line;
            do {
                line = mx.readLine();
            } while (line.startsWith("250-"));
            assertThat(mx.command("MAIL FROM:<sender@example.test>")).startsWith("250 ");
            try (LineClient next = new LineClient(smtp.plain("mx"))) {
                assertThat(next.readLine()).as("the slot was given back at MAIL").startsWith("220 ");
            }
            Thread.sleep(2_000); // longer than the pre-login idle timeout
            assertThat(mx.command("RSET")).startsWith("250 ");
        }
    }

    @Test
    void aClientThatLogsInGivesItsPreLoginSlotBackAndIsNotShedWhenIdleAfterwards() throws Exception {
        try (LineClient first = new LineClient(gateway.plain("other"))) {
            assertThat(first.readLine()).isEqualTo("+OK backend ready");
            try (LineClient second = new LineClient(gateway.plain("other"))) {
                assertThat(second.readLine()).as("the one pre-login slot is taken")
                        .startsWith("-ERR [SYS/TEMP] Too many connections waiting to log in");
            }
            assertThat(first.command("USER alice")).isEqualTo("+OK backend");
            assertThat(first.command("PASS secret")).isEqualTo("+OK backend");
            Eventually.until("the slot is given back", () -> gauge("gatehouse.connections.pre.login", "other") == 0);
            try (LineClient third = new LineClient(gateway.plain("other"))) {
                assertThat(third.readLine()).isEqualTo("+OK backend ready");
            }
            Thread.sleep(2_000); // longer than the pre-login idle timeout
            assertThat(first.command("NOOP")).isEqualTo("+OK backend");
        }
    }
}
