package org.gatehouse.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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

/**
 * {@code GET /} on the admin endpoint: the status page over HTTP, and in a real browser (headless Chromium), which must
 * show the client's own words as text, never as markup, and loads nothing from elsewhere. The browser's screenshot is
 * left in target/status-page.png (docs/status-page.png is one of them).
 */
class StatusPageTest {

    /** What a client calls itself, written to break out of HTML if the page did not escape it. */
    private static final String HOSTILE = "<script>document.title='owned'</script><b>x";

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private TestGateway gateway;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeEach
    void start() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
        int pop3 = backend.address(Protocol.POP3).getPort();
        int smtp = backend.address(Protocol.SMTP).getPort();
        int dead = TestRules.freePort();
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + """
                admin: { listen: "127.0.0.1:0", readOnlyListen: "127.0.0.1:0" }
                rules:
                  - name: pop3s
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    certificate: test
                    backend:
                      servers: ["127.0.0.1:%d", "127.0.0.1:%d"]
                      healthCheck: { interval: 1s, timeout: 500ms, rise: 1, fall: 1 }
                    access: { deny: [127.0.0.2] }
                  - { name: submission, listen: ["127.0.0.1:0"], protocol: smtp, tls: starttls, certificate: test,
                      backend: ["127.0.0.1:%d"] }
                  - { name: old-imap, enabled: false, listen: ["127.0.0.1:0"], protocol: imap, tls: none,
                      backend: ["127.0.0.1:143"] }
                """.formatted(pop3, dead, smtp));
        // A refusal, and a client whose name is markup.
        Socket denied = new Socket();
        denied.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
        denied.connect(gateway.address("pop3s"));
        denied.close();
        try (LineClient c = new LineClient(gateway.plain("submission"))) {
            c.readLine();
            c.command("HELO " + HOSTILE);
            c.command("MAIL FROM:<a@example.com>");
        }
        Eventually.until("the refusal, the report entry and a failed check are in", () -> {
            String page = pageNow();
            return page.contains("denied") && page.contains("submission</td><td>127.0.0.1")
                    && page.contains("failed: ");
        });
    }

    @AfterEach
    void stop() {
        gateway.close();
        backend.close();
    }

    /** The page, or empty if it cannot be had just now (polled: a pause between tries keeps it light). */
    private String pageNow() {
        try {
            Thread.sleep(100);
            return get(gateway.adminUrl() + "/").body();
        } catch (Exception e) {
            return "";
        }
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void thePageShowsRulesBackendsRefusalsAndTheReportEscaped() throws Exception {
        HttpResponse<String> r = get(gateway.adminUrl() + "/");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(r.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(
                csp -> assertThat(csp).startsWith("default-src 'none'"));
        String page = r.body();
        assertThat(page).contains("<td>pop3s</td>", "<td>submission</td>", "<td>old-imap</td>", ">disabled<")
                .contains("<span class=\"up\">up</span>", "<span class=\"down\">down</span>")
                .contains("<td>127.0.0.2</td><td>denied</td>")
                .contains("&lt;script&gt;document.title=&#39;owned&#39;&lt;/script&gt;&lt;b&gt;x")
                .doesNotContain(HOSTILE).doesNotContain("<script").doesNotContain("src=").doesNotContain("href=");
    }

    @Test
    void theReadOnlyListenerHasNoStatusPage() throws Exception {
        int port = gateway.service().readOnlyAdminAddress().orElseThrow().getPort();
        HttpResponse<String> r = get("http://127.0.0.1:" + port + "/");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).doesNotContain("pop3s");
    }

    @Test
    void chromiumShowsTheClientsWordsAsTextAndTakesAScreenshot() throws Exception {
        ExternalTool.require("chromium");
        Path profile = Files.createDirectories(dir.resolve("chromium-profile"));
        Path shot = Path.of("target", "status-page.png").toAbsolutePath();
        Files.deleteIfExists(shot);
        List<String> common = new ArrayList<>(List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--disable-extensions", "--user-data-dir=" + profile, "--window-size=1280,1100"));
        List<String> dom = new ArrayList<>(common);
        dom.addAll(List.of("--dump-dom", gateway.adminUrl() + "/"));
        ExternalTool.Result shown = ExternalTool.run(dom, "", 90);
        assertThat(shown.exitCode()).as(shown.output()).isZero();
        // The DOM as the browser built it: the hostile name is a text node, no script or bold element came of it.
        assertThat(shown.output()).contains("<title>Gatehouse status</title>")
                .contains("&lt;script&gt;document.title='owned'&lt;/script&gt;&lt;b&gt;x")
                .doesNotContain("<script").doesNotContain("<b>x").doesNotContain("owned</title>");

        List<String> screenshot = new ArrayList<>(common);
        screenshot.addAll(List.of("--hide-scrollbars", "--screenshot=" + shot, gateway.adminUrl() + "/"));
        ExternalTool.Result taken = ExternalTool.run(screenshot, "", 90);
        assertThat(taken.exitCode()).as(taken.output()).isZero();
        byte[] png = Files.readAllBytes(shot);
        assertThat(png.length).isGreaterThan(10_000);
        assertThat(new String(png, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
    }
}
