package org.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
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
 * A backend that accepts connections and never greets, over real sockets: within the pool's greeting timeout the
 * client gets its protocol's temporary error instead of waiting for the idle timeout, the server's health counts it,
 * and it is logged once per interval.
 */
class BackendGreetingTimeoutTest {

    @TempDir
    Path dir;

    private FakeBackend mute;
    private FakeBackend good;
    private TestGateway gateway;

    @BeforeEach
    void start() throws Exception {
        mute = FakeBackend.start("mute", FakeBackend.Mode.HANG_AFTER_ACCEPT);
        good = FakeBackend.start("good", FakeBackend.Mode.GREET);
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + """
                rules:
                  - name: pop3
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    backend: { servers: ["%1$s"], greetingTimeout: 1s }
                  - name: pop3s
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    certificate: test
                    backend: { servers: ["%1$s"], greetingTimeout: 1s }
                  - name: imap
                    listen: ["127.0.0.1:0"]
                    protocol: imap
                    tls: none
                    backend: { servers: ["%1$s"], greetingTimeout: 1s }
                  - name: smtp
                    listen: ["127.0.0.1:0"]
                    protocol: smtp
                    tls: none
                    backend: { servers: ["%1$s"], greetingTimeout: 1s }
                  - name: checked
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    backend:
                      servers: ["%1$s", "%2$s"]
                      greetingTimeout: 1s
                      healthCheck: { interval: 1h, timeout: 500ms, rise: 1, fall: 2 }
                """.formatted(mute.hostPort(), good.hostPort()));
        LogCapture.clear();
    }

    @AfterEach
    void stop() {
        gateway.close();
        mute.close();
        good.close();
    }

    /** What a client of {@code rule} reads until the gateway closes, within 10 s (the idle timeout is minutes). */
    private static String answer(LineClient client) throws IOException {
        client.socket().setSoTimeout(10_000);
        StringBuilder got = new StringBuilder();
        String line;
        while ((line = client.readLine()) != null) {
            got.append(line).append('\n');
        }
        return got.toString();
    }

    @Test
    void aServerThatNeverGreetsGetsTheClientItsProtocolsTemporaryError() throws Exception {
        try (LineClient c = new LineClient(gateway.plain("pop3"))) {
            assertThat(answer(c)).isEqualTo("-ERR [SYS/TEMP] The mail server did not answer, try again later\n");
        }
        try (LineClient c = new LineClient(gateway.tls("pop3s"))) {
            assertThat(answer(c)).isEqualTo("-ERR [SYS/TEMP] The mail server did not answer, try again later\n");
        }
        try (LineClient c = new LineClient(gateway.plain("imap"))) {
            assertThat(answer(c)).isEqualTo("* BYE [UNAVAILABLE] The mail server did not answer, try again later\n");
        }
        try (LineClient c = new LineClient(gateway.plain("smtp"))) {
            assertThat(answer(c)).isEqualTo("421 4.4.2 The mail server did not answer, try again later\n");
        }
        assertThat(gateway.counter("gatehouse.backend.greeting.timeouts", "rule", "pop3", "backend", mute.hostPort()))
                .isEqualTo(1);
        assertThat(gateway.counter("gatehouse.connections.rejected", "rule", "imap", "reason", "greeting-timeout"))
                .isEqualTo(1);
        Eventually.until("the sessions are closed", () -> gateway.registry().find("gatehouse.connections.active")
                .gauges().stream().allMatch(g -> g.value() == 0));
        assertThat(LogCapture.lines()).anySatisfy(l -> assertThat(l).startsWith("gatehouse.backend ")
                .contains("did not greet").contains("rule=pop3 ").contains("backend=" + mute.hostPort()));
        assertThat(LogCapture.lines()).noneMatch(l -> l.contains(" | "));
    }

    @Test
    void greetingTimeoutsCountAgainstTheServersHealth() throws Exception {
        for (int i = 0; i < 2; i++) {
            try (LineClient c = new LineClient(gateway.plain("checked"))) {
                String got = answer(c);
                if (got.startsWith("+OK good")) {
                    break; // a health check failed too, and took the mute server out sooner
                }
                assertThat(got).startsWith("-ERR [SYS/TEMP] The mail server did not answer");
            }
        }
        Eventually.until("the mute server is out of use", () -> gateway.registry().find("gatehouse.backend.up")
                .tags("rule", "checked", "backend", mute.hostPort()).gauge().value() == 0);
        try (LineClient c = new LineClient(gateway.plain("checked"))) {
            c.socket().setSoTimeout(5_000);
            assertThat(c.readLine()).isEqualTo("+OK good ready");
        }
    }
}
