package org.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.FakeBackend;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.TestCertificates;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gatehouse run} as a real process with a small heap and {@code -XX:+ExitOnOutOfMemoryError}, as the shipped
 * container and unit run it, reloaded with rules that name a 300 MB certificate, then with a 300 MB rules file: each
 * reload is refused with an error naming the file, the process lives, and the old rules keep serving.
 */
class ReloadBoundsProcessTest {

    private static final long HUGE = 300L * 1024 * 1024;

    @TempDir
    Path dir;

    private FakeBackend backend;
    private Process process;
    private Path output;
    private Path rules;
    private int port;
    private SSLContext trusting;

    @BeforeEach
    void start() throws Exception {
        backend = FakeBackend.start("backend", FakeBackend.Mode.GREET);
        TestCertificates.Ca ca = TestCertificates.Ca.create("Test CA");
        KeyPair key = TestCertificates.ec();
        Path tls = Files.createDirectories(dir.resolve("tls"));
        Files.writeString(tls.resolve("mail.crt"), TestCertificates.pem(ca.sign(key, "localhost", "127.0.0.1"),
                ca.certificate()));
        Files.writeString(tls.resolve("mail.key"), TestCertificates.pkcs8(key.getPrivate()));
        try (RandomAccessFile huge = new RandomAccessFile(tls.resolve("huge.crt").toFile(), "rw")) {
            huge.setLength(HUGE); // sparse: no disk used
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        trusting = SSLContext.getInstance("TLS");
        trusting.init(null, tmf.getTrustManagers(), null);

        port = TestRules.freePort();
        rules = dir.resolve("rules.yaml");
        Files.writeString(rules, rulesNaming("tls/mail.crt"));
        output = dir.resolve("output.txt");
        process = new ProcessBuilder(MainProcess.commandFromJars(dir, List.of("-Xmx96m", "-XX:+ExitOnOutOfMemoryError"),
                "run", "--rules", rules.toString())).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        MainProcess.awaitStarted(process, this::output);
    }

    @AfterEach
    void stop() throws Exception {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        backend.close();
    }

    private String rulesNaming(String certificate) {
        return """
                admin: { enabled: false }
                certificates:
                  mail: { certificate: %s, privateKey: tls/mail.key }
                rules:
                  - { name: pop3s, listen: ["127.0.0.1:%d"], protocol: pop3, certificate: mail, backend: ["%s"] }
                """.formatted(certificate, port, backend.hostPort());
    }

    private String output() {
        try {
            return Files.readString(output);
        } catch (IOException e) {
            return "";
        }
    }

    private void reload() throws Exception {
        new ProcessBuilder("kill", "-HUP", String.valueOf(process.pid())).start().waitFor(10, TimeUnit.SECONDS);
    }

    private void servesTheOldRules() throws IOException {
        SSLSocket socket = (SSLSocket) trusting.getSocketFactory().createSocket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        try (LineClient c = new LineClient(socket)) {
            assertThat(c.readLine()).isEqualTo("+OK backend ready");
        }
    }

    @Test
    void aReloadNamingAHugeCertificateOrAHugeRulesFileIsRefusedAndTheOldRulesServeOn() throws Exception {
        Files.writeString(rules, rulesNaming("tls/huge.crt"));
        reload();
        // The refusal and each of its problems are separate log lines: wait for the problem's, not the first.
        Eventually.until("the reload naming the huge certificate is refused (or the process died)",
                () -> output().contains("more than a certificate or key file may be") || !process.isAlive());
        assertThat(process.isAlive()).as("the gateway lives; its output:\n" + output()).isTrue();
        assertThat(output()).contains(dir.resolve("tls/huge.crt") + " is 300 MiB, more than a certificate or key "
                + "file may be (1 MiB)");
        servesTheOldRules();

        try (RandomAccessFile huge = new RandomAccessFile(rules.toFile(), "rw")) {
            huge.setLength(HUGE);
        }
        reload();
        Eventually.until("the reload of the huge rules file is refused (or the process died)",
                () -> output().contains("more than a rules file may be") || !process.isAlive());
        assertThat(process.isAlive()).as("the gateway lives; its output:\n" + output()).isTrue();
        assertThat(output()).contains(rules + " is 300 MiB, more than a rules file may be (4 MiB)");
        servesTheOldRules();
        assertThat(output()).doesNotContain("OutOfMemoryError", "\tat ");
    }
}
