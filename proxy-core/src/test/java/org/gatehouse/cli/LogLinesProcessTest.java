package org.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
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
 * The log a real {@code gatehouse run} writes, with the logging configuration it ships (not the tests'): with
 * {@code accessLog: {format: json}} every line is one JSON object that jq and log shippers read, the access line's
 * fields at the top level; otherwise every line is logfmt. The rotated-file configuration in deploy/logback writes
 * the same lines to its file.
 */
class LogLinesProcessTest {

    private static final Path SHIPPED = Path.of("src", "main", "resources", "logback.xml").toAbsolutePath();
    private static final Path FILE_CONFIG = Path.of("..", "deploy", "logback", "logback-file.xml").toAbsolutePath();
    private static final Pattern LOGFMT = Pattern.compile(
            "time=\\d{4}-\\d\\d-\\d\\dT\\S+Z level=(debug|info|warn|error) logger=\\S+( [a-z_]+=(\"([^\"\\\\]|\\\\.)*\"|\\S+))+");

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private Process process;
    private Path output;
    private int port;

    @BeforeEach
    void backend() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
        port = TestRules.freePort();
    }

    @AfterEach
    void stop() throws Exception {
        if (process != null) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        backend.close();
    }

    private void run(String format, Path config) throws Exception {
        InetSocketAddress b = backend.address(Protocol.POP3);
        Path rules = Files.writeString(dir.resolve("rules.yaml"), """
                admin: { listen: "127.0.0.1:0" }
                accessLog: { format: %s }
                rules:
                  - name: pop3
                    listen: ["127.0.0.1:%d"]
                    protocol: pop3
                    tls: none
                    login: audit
                    backend: ["%s:%d"]
                """.formatted(format, port, b.getAddress().getHostAddress(), b.getPort()));
        List<String> command = new ArrayList<>(MainProcess.command("run", "--rules", rules.toString()));
        command.addAll(1, List.of("-Dlogback.configurationFile=" + config, "-Dgatehouse.log.dir=" + dir));
        output = dir.resolve("output.txt");
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        MainProcess.awaitStarted(process, () -> read(output));
        try (LineClient c = new LineClient(new Socket("127.0.0.1", port))) {
            c.readLine();
            c.command("USER demo");
            c.command("PASS demo-password");
            c.command("QUIT");
        }
        Eventually.until("the access line", () -> read(output).contains("outcome"));
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void withJsonEveryLineIsAJsonObjectAndTheAccessLineHasItsFieldsAtTheTop() throws Exception {
        run("json", SHIPPED);
        List<JsonNode> lines = jsonLines(output);
        assertThat(lines).hasSizeGreaterThan(4);
        assertThat(lines).allSatisfy(l -> assertThat(l.path("time").asText()).matches("\\d{4}-.*Z"))
                .allSatisfy(l -> assertThat(l.path("level").asText()).isIn("info", "warn"));
        JsonNode access = lines.stream().filter(l -> l.path("logger").asText().equals("access")).findFirst()
                .orElseThrow();
        assertThat(access.path("rule").asText()).isEqualTo("pop3");
        assertThat(access.path("client").asText()).isEqualTo("127.0.0.1");
        assertThat(access.path("bytes_in").isNumber()).isTrue();
        assertThat(access.path("outcome").asText()).isEqualTo("closed");
        JsonNode login = lines.stream().filter(l -> l.path("logger").asText().equals("login")).findFirst()
                .orElseThrow();
        assertThat(login.path("msg").asText()).contains("event=plaintext-login action=audited");
    }

    @Test
    void withLogfmtEveryLineIsLogfmt() throws Exception {
        run("logfmt", SHIPPED);
        List<String> lines = Files.readAllLines(output);
        assertThat(lines).hasSizeGreaterThan(4).allSatisfy(l -> assertThat(l).matches(LOGFMT));
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("logger=access rule=pop3 client=127.0.0.1:")
                .contains(" outcome=closed"));
    }

    @Test
    void theRotatedFileConfigurationWritesTheSameLinesToItsFile() throws Exception {
        run("json", FILE_CONFIG);
        Path file = dir.resolve("gatehouse.log");
        Eventually.until("the access line in the file", () -> read(file).contains("\"outcome\""));
        assertThat(jsonLines(file)).anySatisfy(l -> assertThat(l.path("logger").asText()).isEqualTo("access"));
    }

    private static List<JsonNode> jsonLines(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            lines.add(json.readTree(line)); // throws on a line that is not JSON
        }
        return lines;
    }
}
