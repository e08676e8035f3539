package org.gatehouse.protection;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.demo.DemoMailbox;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Account protection over real sockets, clients on many loopback addresses (127.0.0.x): a spray is blocked at the
 * configured thresholds while the real user, from where it logged in before, keeps getting in; the failures that reach
 * the backend for the sprayed user stay below the lockout threshold; blocks expire; state survives a reload and a
 * restart; an unblock on the admin endpoint lifts a block at once.
 */
class AccountProtectionIntegrationTest {

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private TestGateway gateway;

    @BeforeEach
    void start() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
        gateway = TestGateway.start(dir, rules("15m"));
        LogCapture.clear();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        backend.close();
    }

    private String rules(String blockDuration) {
        InetSocketAddress pop3 = backend.address(Protocol.POP3);
        return """
                protection:
                  addressUsers: 3
                  addressFailures: 6
                  lockoutThreshold: 5
                  blockDuration: %s
                  tarpit: { initialDelay: 10ms, maxDelay: 40ms }
                rules:
                  - name: pop3
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    login: plaintext-allowed
                    backend: ["%s:%d"]
                """.formatted(blockDuration, pop3.getAddress().getHostAddress(), pop3.getPort());
    }

    private LineClient from(String address) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(address, 0));
        s.connect(gateway.address("pop3"), 5000);
        s.setSoTimeout(10_000);
        return new LineClient(s);
    }

    /** A login from {@code address}: the greeting, then USER/PASS; the last line the client read. */
    private String login(String address, String user, String password) throws IOException {
        try (LineClient c = from(address)) {
            String greeting = c.readLine();
            if (greeting == null || !greeting.startsWith("+OK")) {
                return greeting;
            }
            String u = c.command("USER " + user);
            if (u == null || !u.startsWith("+OK")) {
                return u;
            }
            return c.command("PASS " + password);
        }
    }

    private long failuresReachingTheBackendFor(String user) {
        return LogCapture.lines().stream()
                .filter(l -> l.contains("event=login result=bad-credentials") && l.contains(" user=" + user + " "))
                .count();
    }

    @Test
    void aSprayFromManyAddressesIsBlockedWhileTheRealUserKeepsGettingInFromWhereItLoggedInBefore() throws Exception {
        assertThat(login("127.0.0.2", DemoMailbox.USER, DemoMailbox.PASSWORD)).startsWith("+OK");
        int refusedBeforeTls = 0;
        for (int a = 10; a < 20; a++) {
            String address = "127.0.0." + a;
            for (String user : new String[]{"alice", "bob", DemoMailbox.USER, "carol", "dan"}) {
                String last = login(address, user, "Spring2026!");
                if (last != null && last.startsWith("-ERR [SYS/TEMP] Too many failed logins")) {
                    refusedBeforeTls++;
                }
            }
            assertThat(gateway.gateway().accounts().blocks()).as("address %s blocked", address)
                    .anyMatch(b -> b.kind() == Block.Kind.ADDRESS && b.key().equals(address));
        }
        assertThat(refusedBeforeTls).as("later attempts of blocked addresses").isGreaterThanOrEqualTo(10);
        assertThat(failuresReachingTheBackendFor(DemoMailbox.USER)).as("the backend's failures for the user")
                .isLessThan(5);
        assertThat(gateway.gateway().accounts().blocks()).anyMatch(
                b -> b.kind() == Block.Kind.USER && b.key().equals(DemoMailbox.USER));
        assertThat(login("127.0.0.2", DemoMailbox.USER, DemoMailbox.PASSWORD)).as("the real user, at home")
                .startsWith("+OK");
        assertThat(login("127.0.0.3", DemoMailbox.USER, DemoMailbox.PASSWORD)).as("the user, from elsewhere")
                .startsWith("-ERR [SYS/TEMP] Too many failed logins");
        assertThat(gateway.counter("gatehouse.logins", "rule", "pop3", "result", "success")).isEqualTo(2);
        assertThat(LogCapture.lines()).anyMatch(l -> l.contains("event=block kind=address client=127.0.0.10 rule=pop3"
                + " reason=distinct-users duration_s=900"));
    }

    @Test
    void blocksSurviveAReloadAndARestartAndTheAdminEndpointLiftsThem() throws Exception {
        for (String user : new String[]{"u1", "u2", "u3"}) {
            login("127.0.0.30", user, "nope");
        }
        assertThat(login("127.0.0.30", "u4", "nope")).startsWith("-ERR [SYS/TEMP]");
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> reload = http.send(HttpRequest.newBuilder(URI.create(gateway.adminUrl() + "/-/reload"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(reload.statusCode()).isEqualTo(200);
        assertThat(login("127.0.0.30", "u4", "nope")).as("after a reload").startsWith("-ERR [SYS/TEMP]");

        gateway.close();
        gateway = TestGateway.start(dir, rules("15m"));
        assertThat(login("127.0.0.30", "u4", "nope")).as("after a restart").startsWith("-ERR [SYS/TEMP]");

        HttpResponse<String> unblock = http.send(HttpRequest.newBuilder(URI.create(gateway.adminUrl()
                + "/-/unblock?address=127.0.0.30")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unblock.body()).isEqualTo("unblocked address 127.0.0.30\n");
        assertThat(login("127.0.0.30", DemoMailbox.USER, DemoMailbox.PASSWORD)).startsWith("+OK");
        assertThat(LogCapture.lines()).anyMatch(l -> l.contains("event=unblock kind=address client=127.0.0.30"
                + " by=admin"));
    }

    @Test
    void blocksExpire() throws Exception {
        gateway.close();
        gateway = TestGateway.start(dir, rules("1s"));
        for (String user : new String[]{"u1", "u2", "u3"}) {
            login("127.0.0.40", user, "nope");
        }
        assertThat(login("127.0.0.40", DemoMailbox.USER, DemoMailbox.PASSWORD)).startsWith("-ERR [SYS/TEMP]");
        Eventually.until("the block ran out", () -> gateway.gateway().accounts().blocks().isEmpty());
        assertThat(login("127.0.0.40", DemoMailbox.USER, DemoMailbox.PASSWORD)).startsWith("+OK");
    }
}
