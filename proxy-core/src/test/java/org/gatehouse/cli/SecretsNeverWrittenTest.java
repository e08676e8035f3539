package org.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.login.PlaintextLogins;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * No password reaches a log line, the saved report, {@code gatehouse plaintext-logins} or /metrics: every login form the
 * fuzzers' inputs hold, and the forms that once leaked, are sent with a marker password over real sockets to rules that
 * refuse and rules that audit, with every Gatehouse logger at DEBUG; then each of those outputs is searched for the
 * marker, for its base64 and for every base64 payload sent (in any case), and for its hex.
 */
class SecretsNeverWrittenTest {

    private static final String MARKER = "Mk7" + "secretZq9x";
    private static final Path FUZZ_INPUTS = Path.of("src", "test", "resources", "org", "gatehouse", "mail",
            "InspectorFuzzTestInputs");
    private static final String SEED_SECRET = "secret";
    private static final String SEED_B64 = b64("\0alice\0" + SEED_SECRET);

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private TestGateway gateway;
    private final List<String> payloads = new ArrayList<>();

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (backend != null) {
            backend.close();
        }
        ((Logger) LoggerFactory.getLogger("org.gatehouse")).setLevel(null);
        ((Logger) LoggerFactory.getLogger("gatehouse")).setLevel(null);
    }

    @Test
    void noFormOfLoginWritesThePasswordAnywhere() throws Exception {
        ((Logger) LoggerFactory.getLogger("org.gatehouse")).setLevel(Level.DEBUG);
        ((Logger) LoggerFactory.getLogger("gatehouse")).setLevel(Level.DEBUG);
        backend = DemoMailServer.start(Transport.detect());
        // Account protection counts every forwarded login (report mode: nothing is refused, every line is logged); one
        // rule enforces, so that a block, the state file and the block list hold something to search.
        StringBuilder yaml = new StringBuilder(TestGateway.CERTIFICATES).append(
                "protection: { mode: report, tarpit: { initialDelay: 1ms, maxDelay: 1ms } }\n").append("rules:\n");
        for (Protocol p : List.of(Protocol.POP3, Protocol.IMAP, Protocol.SMTP)) {
            String at = backend.address(p).getAddress().getHostAddress() + ":" + backend.address(p).getPort();
            yaml.append(rule(p, "refuse", "starttls", "secure-only", at)).append(rule(p, "audit", "none", "audit", at));
        }
        String pop3At = backend.address(Protocol.POP3).getAddress().getHostAddress() + ":"
                + backend.address(Protocol.POP3).getPort();
        yaml.append(rule(Protocol.POP3, "enforce", "none", "audit", pop3At)).append(
                "    protection: { mode: enforce, addressFailures: 2 }\n");
        gateway = TestGateway.start(dir, yaml.toString());
        LogCapture.clear();

        int sent = 0;
        for (Protocol p : List.of(Protocol.POP3, Protocol.IMAP, Protocol.SMTP)) {
            for (byte[] form : forms(p)) {
                for (String mode : List.of("refuse", "audit")) {
                    converse(p.configName() + "-" + mode, form);
                    sent++;
                }
            }
        }
        assertThat(sent).as("forms sent").isGreaterThan(60);
        for (int i = 0; i < 3; i++) {
            converse("pop3-enforce",
                    ("USER user" + i + "\r\nPASS " + MARKER + i + "\r\n").getBytes(StandardCharsets.US_ASCII));
        }
        String blocks = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(gateway.adminUrl()
                + "/blocks")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(blocks).contains("address\t127.0.0.1\tpop3-enforce");
        Eventually.until("every connection ended", () -> gateway.registry().find("gatehouse.connections.active")
                .gauges().stream().mapToDouble(g -> g.value()).sum() == 0);
        assertThat(gateway.gateway().plaintextLogins().entries()).as("the report saw the attempts").isNotEmpty();

        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(gateway.adminUrl()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        gateway.close(); // saves the report
        gateway = null;
        String report = Files.readString(dir.resolve("state").resolve(PlaintextLogins.FILE_NAME));
        String state = Files.readString(dir.resolve("state").resolve("account-protection.tsv"));
        assertThat(state).contains("127.0.0.1");
        StringWriter blocksOut = new StringWriter();
        CommandLineRun.run(blocksOut, "blocks", "--rules", dir.resolve("rules.yaml").toString());
        assertThat(blocksOut.toString()).contains("127.0.0.1");
        StringWriter cliOut = new StringWriter();
        CommandLineRun.run(cliOut, "plaintext-logins", "--rules", dir.resolve("rules.yaml").toString());
        String logs = String.join("\n", LogCapture.lines());

        assertThat(logs).contains("event=plaintext-login"); // the search below looks at real output
        assertThat(cliOut.toString()).contains("refused").contains("audited");
        assertThat(logs).contains("event=login result=bad-credentials").contains("event=block kind=address");
        for (var output : List.of(List.of("log", logs), List.of("report", report), List.of("cli", cliOut.toString()),
                List.of("metrics", metrics), List.of("blocks", blocks), List.of("state", state),
                List.of("blocks cli", blocksOut.toString()))) {
            assertNoSecret(output.get(0), output.get(1));
        }
    }

    private void assertNoSecret(String where, String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        List<String> needles = new ArrayList<>(
                List.of(MARKER, b64(MARKER), HexFormat.of().formatHex(MARKER.getBytes())));
        needles.addAll(payloads);
        for (String needle : needles) {
            assertThat(lower).as("%s holds %s", where, needle).doesNotContain(needle.toLowerCase(Locale.ROOT));
        }
    }

    /** The fuzzers' client inputs for a protocol, with the marker for their password, plus the forms that leaked. */
    private List<byte[]> forms(Protocol protocol) throws Exception {
        String markerB64 = b64("\0alice\0" + MARKER);
        payloads.add(markerB64);
        List<byte[]> forms = new ArrayList<>();
        try (Stream<Path> files = Files.list(FUZZ_INPUTS.resolve(protocol.configName() + "Client"))) {
            for (Path file : files.sorted().toList()) {
                String text = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).substring(1);
                forms.add(text.replace(SEED_B64, markerB64).replace(SEED_SECRET, MARKER)
                        .getBytes(StandardCharsets.ISO_8859_1));
            }
        }
        String login = b64(MARKER);
        payloads.add(login);
        List<String> extra = switch (protocol) {
            case SMTP -> List.of("AUTH PLAIN\t" + markerB64 + "\r\n", "AUTH " + markerB64 + "\r\n",
                    "AUTH PLAIN\r\n" + markerB64 + "\r\n", "AUTH LOGIN " + b64("alice") + "\r\n" + login + "\r\n",
                    "AUTH \"PLAIN" + MARKER + "\r\n", "AUTH PLAIN\u001b[31m" + MARKER + "\r\n");
            case POP3 -> List.of("AUTH PLAIN\t" + markerB64 + "\r\n", "AUTH " + markerB64 + "\r\n",
                    "USER alice\r\nPASS " + MARKER + "\r\n", "AUTH LOGIN\r\n" + b64("alice") + "\r\n" + login
                            + "\r\n",
                    "APOP alice " + MARKER + "\r\n");
            case IMAP -> List.of("a AUTHENTICATE PLAIN\t" + markerB64 + "\r\n", "a AUTHENTICATE " + markerB64 + "\r\n",
                    "a LOGIN alice \"" + MARKER + "\"\r\n",
                    "a LOGIN {5}\r\nalice {" + MARKER.length() + "}\r\n" + MARKER
                            + "\r\n",
                    "a LOGIN alice " + MARKER + "\r\n");
            case TCP -> List.of();
        };
        extra.forEach(e -> forms.add(e.getBytes(StandardCharsets.ISO_8859_1)));
        return forms;
    }

    /** Sends a form and reads what comes back until the gateway closes or goes quiet. */
    private void converse(String rule, byte[] form) throws Exception {
        try (Socket socket = gateway.plain(rule)) {
            InputStream in = socket.getInputStream();
            socket.setSoTimeout(10_000);
            for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
                // the greeting
            }
            socket.setSoTimeout(100);
            socket.getOutputStream().write(form);
            socket.getOutputStream().flush();
            readQuietly(in);
        }
    }

    private static void readQuietly(InputStream in) throws Exception {
        byte[] buf = new byte[8192];
        try {
            while (in.read(buf) >= 0) {
                // drain
            }
        } catch (SocketTimeoutException e) {
            // quiet: the gateway waits for more
        } catch (SocketException e) {
            // reset after a refusal
        }
    }

    private static String rule(Protocol p, String mode, String tls, String login, String backend) {
        return """
                  - name: %s-%s
                    listen: ["127.0.0.1:0"]
                    protocol: %s
                    tls: %s
                %s    login: %s
                    backend: ["%s"]
                """.formatted(p.configName(), mode, p.configName(), tls,
                tls.equals("none") ? "" : "    certificate: test\n", login, backend);
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The command line as {@code gatehouse} runs it, with its output captured. */
    private static final class CommandLineRun {
        static int run(StringWriter out, String... args) {
            var cli = Main.commandLine();
            cli.setOut(new PrintWriter(out));
            cli.setErr(new PrintWriter(out));
            return cli.execute(args);
        }
    }
}
