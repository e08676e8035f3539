package org.gatehouse.log;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The access line in JSON, after a real TLS session with SNI. */
class AccessLogFormatTest {

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private TestGateway gateway;

    @AfterEach
    void stop() {
        gateway.close();
        backend.close();
    }

    @Test
    void jsonAccessLineHasTheFieldsAdministratorsSearchBy() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
        var b = backend.address(Protocol.POP3);
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + "accessLog: { format: json }\nrules:\n"
                + TestRules.rule("pop3s", "pop3", "implicit", b.getAddress().getHostAddress() + ":" + b.getPort()));
        LogCapture.clear();

        Socket plain = gateway.plain("pop3s");
        SSLSocket tls = (SSLSocket) gateway.clientContext().getSocketFactory()
                .createSocket(plain, "127.0.0.1", plain.getPort(), true);
        SSLParameters parameters = tls.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName("mail.example.test")));
        tls.setSSLParameters(parameters);
        try (LineClient c = new LineClient(tls)) {
            assertThat(c.readLine()).startsWith("+OK");
            assertThat(c.command("QUIT")).startsWith("+OK");
        }
        Eventually.until("an access line",
                () -> LogCapture.lines().stream().anyMatch(l -> l.startsWith("gatehouse.access {")));
        String line = LogCapture.lines().stream().filter(l -> l.startsWith("gatehouse.access {")).findFirst()
                .orElseThrow();
        JsonNode json = new ObjectMapper().readTree(line.substring("gatehouse.access ".length()));

        assertThat(json.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        assertThat(json.get("rule").asText()).isEqualTo("pop3s");
        assertThat(json.get("client").asText()).isEqualTo("127.0.0.1");
        assertThat(json.get("client_port").isInt()).isTrue();
        assertThat(json.get("tls").asText()).startsWith("TLSv1.");
        assertThat(json.get("cipher").asText()).startsWith("TLS_");
        assertThat(json.get("sni").asText()).isEqualTo("mail.example.test");
        assertThat(json.get("backend").asText()).isEqualTo(b.getAddress().getHostAddress() + ":" + b.getPort());
        assertThat(json.get("bytes_in").asLong()).isPositive();
        assertThat(json.get("bytes_out").asLong()).isPositive();
        assertThat(json.get("duration_ms").isNumber()).isTrue();
        assertThat(json.get("outcome").asText()).isEqualTo("closed");
    }
}
