package org.gatehouse.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.ExternalTool;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin endpoint over real HTTP on loopback, and the meters it exposes after real traffic. */
class AdminEndpointTest {

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private TestGateway gateway;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeEach
    void start() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
        String pop3 = backend.address(Protocol.POP3).getAddress().getHostAddress() + ":"
                + backend.address(Protocol.POP3).getPort();
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + "rules:\n"
                + TestRules.rule("pop3s", "pop3", "implicit", pop3)
                + TestRules.rule("closed", "pop3", "none", pop3) + "    access: { allow: [192.0.2.0/24] }\n");
    }

    @AfterEach
    void stop() {
        gateway.close();
        backend.close();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gateway.adminUrl() + path))
                .timeout(Duration.ofSeconds(20));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(gateway.adminUrl() + path)).timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** One POP3S session and one refused client, so that the meters have something to say. */
    private void someTraffic() throws Exception {
        try (LineClient c = new LineClient(gateway.tls("pop3s", "TLSv1.3"))) {
            assertThat(c.readLine()).startsWith("+OK");
            assertThat(c.command("QUIT")).startsWith("+OK");
            assertThat(c.readLine()).isNull();
        }
        try (LineClient c = new LineClient(gateway.plain("closed"))) {
            assertThat(c.readLine()).isEqualTo("-ERR Access denied");
        }
    }

    @Test
    void healthAndReadiness() throws Exception {
        assertThat(get("/healthz")).satisfies(r -> {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ok\n");
        });
        assertThat(get("/readyz")).satisfies(r -> {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ready\n");
        });
        assertThat(get("/nothing-here").statusCode()).isEqualTo(404);
        assertThat(post("/metrics").statusCode()).isEqualTo(405);
        HttpResponse<String> getReload = get("/-/reload");
        assertThat(getReload.statusCode()).isEqualTo(405);
        assertThat(getReload.headers().firstValue("allow")).hasValue("POST");
    }

    @Test
    void metricsInPrometheusTextAndOpenMetricsWithTheGatewaysMeters() throws Exception {
        someTraffic();
        Eventually.until("the session's end is counted",
                () -> gateway.counter("gatehouse.relay.bytes", "rule", "pop3s", "direction", "backend-to-client") > 0);

        HttpResponse<String> text = get("/metrics");
        assertThat(text.statusCode()).isEqualTo(200);
        assertThat(text.headers().firstValue("content-type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain; version=0.0.4"));
        assertThat(text.body()).contains(
                "gatehouse_connections_accepted_total{rule=\"pop3s\",} 1.0",
                "gatehouse_connections_rejected_total{reason=\"not-allowed\",rule=\"closed\",} 1.0",
                "gatehouse_tls_handshakes_total{rule=\"pop3s\",version=\"TLSv1.3\",} 1.0",
                "gatehouse_tls_handshake_duration_seconds_bucket{rule=\"pop3s\",le=\"10.0\",} 1.0",
                "gatehouse_session_duration_seconds_count{rule=\"pop3s\",} 1.0",
                "gatehouse_backend_connect_duration_seconds_count{backend=",
                "gatehouse_relay_bytes_total{direction=\"client-to-backend\",rule=\"pop3s\",}",
                "gatehouse_connections_active{rule=\"pop3s\",}",
                "gatehouse_config_reloads_total{result=\"failure\",} 0.0",
                "gatehouse_config_last_reload_success_time_seconds ",
                "gatehouse_build_info{",
                "jvm_memory_used_bytes{",
                "process_cpu_usage ");
        assertThat(text.body()).doesNotContain("127.0.0.1\",rule").as("no client address as a label");

        HttpResponse<String> open = get("/metrics", "Accept",
                "application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertThat(open.headers().firstValue("content-type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("application/openmetrics-text"));
        assertThat(open.body()).endsWith("# EOF\n");
    }

    /** promtool reads the Prometheus text format (its parser refuses OpenMetrics' escaped quotes in HELP lines). */
    @Test
    void promtoolAcceptsTheMetrics() throws Exception {
        ExternalTool.require("promtool");
        someTraffic();
        String body = get("/metrics").body();
        ExternalTool.Result check = ExternalTool.run(List.of("promtool", "check", "metrics"), body, 60);
        assertThat(check.exitCode()).as(check.output()).isZero();
        assertThat(check.output()).isBlank();
    }

    @Test
    void postReloadReloadsAndAnInvalidFileIsRefusedWithEveryProblemWhileServingGoesOn() throws Exception {
        HttpResponse<String> same = post("/-/reload");
        assertThat(same.statusCode()).isEqualTo(200);
        assertThat(same.body()).isEqualTo("reloaded: no rule changed\n");

        String valid = Files.readString(gateway.file());
        Files.writeString(gateway.file(), valid.replace("protocol: pop3", "protocol: pop4"));
        HttpResponse<String> refused = post("/-/reload");
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(refused.body()).startsWith("reload refused, still serving the rules loaded before: 2 problem(s) in ")
                .contains(
                        "rules.yaml:8:15: rules[0].protocol: \"pop4\" (expected pop3, imap, smtp or tcp; did you mean pop3?)");

        try (LineClient c = new LineClient(gateway.tls("pop3s"))) {
            assertThat(c.readLine()).startsWith("+OK");
        }
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
        assertThat(gateway.counter("gatehouse.config.reloads", "result", "failure")).isGreaterThanOrEqualTo(1);
        assertThat(gateway.counter("gatehouse.config.reloads", "result", "success")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aReadOnlyListenerServesMetricsAndHealthButNeverReload() throws Exception {
        Path other = Files.createDirectories(dir.resolve("read-only"));
        try (TestGateway g = TestGateway.start(other, """
                admin: { listen: "127.0.0.1:0", readOnlyListen: "127.0.0.1:0" }
                rules:
                  - { name: tcp, listen: ["127.0.0.1:0"], protocol: tcp, tls: none, backend: ["127.0.0.1:9"] }
                """)) {
            var at = g.service().readOnlyAdminAddress().orElseThrow();
            String base = "http://127.0.0.1:" + at.getPort();
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body())
                    .containsPattern("gatehouse_admin_connections_active\\{listener=\"read-only\",?} 1");
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            HttpResponse<String> reload = http.send(HttpRequest.newBuilder(URI.create(base + "/-/reload"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(reload.statusCode()).isEqualTo(404);
            assertThat(reload.body()).contains("POST /-/reload is on admin.listen");
            assertThat(g.counter("gatehouse.config.reloads", "result", "success")).isZero();
        }
    }
}
