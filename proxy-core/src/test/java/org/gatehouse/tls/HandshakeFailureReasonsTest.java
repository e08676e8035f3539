package org.gatehouse.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.ExternalTool;
import org.gatehouse.testing.FakeBackend;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestCertificates;
import org.gatehouse.testing.TestCertificates.Ca;
import org.gatehouse.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Why a handshake failed, as real clients make it fail: the reason in the access line and the metric names the fault
 * (a certificate the client rejects, nothing in common), not "other". openssl s_client and curl, TLS 1.3 and 1.2.
 */
class HandshakeFailureReasonsTest {

    @TempDir
    Path dir;

    private FakeBackend backend;
    private TestGateway gateway;
    private String port;
    private String expiredPort;

    @BeforeEach
    void start() throws Exception {
        Ca ca = Ca.create("Reasons Test CA");
        Files.writeString(dir.resolve("ca.crt"), TestCertificates.pem(ca.certificate()));
        KeyPair keys = TestCertificates.ec();
        Files.writeString(dir.resolve("mail.key"), TestCertificates.pkcs8(keys.getPrivate()));
        Files.writeString(dir.resolve("mail.crt"), TestCertificates.pem(ca.sign(keys, "localhost"), ca.certificate()));
        Instant now = Instant.now();
        Files.writeString(dir.resolve("expired.crt"), TestCertificates.pem(ca.sign(keys, List.of("localhost"),
                now.minus(Duration.ofDays(60)), now.minus(Duration.ofDays(1))), ca.certificate()));
        backend = FakeBackend.start("backend", FakeBackend.Mode.GREET);
        gateway = TestGateway.start(dir, """
                certificates:
                  mail: { certificate: mail.crt, privateKey: mail.key }
                  expired: { certificate: expired.crt, privateKey: mail.key, allowExpired: true }
                rules:
                  - { name: ok, listen: ["127.0.0.1:0"], protocol: pop3, certificate: mail, backend: ["%1$s"] }
                  - { name: old, listen: ["127.0.0.1:0"], protocol: pop3, certificate: expired, backend: ["%1$s"] }
                """.formatted(backend.hostPort()));
        port = Integer.toString(gateway.address("ok").getPort());
        expiredPort = Integer.toString(gateway.address("old").getPort());
        LogCapture.clear();
    }

    @AfterEach
    void stop() {
        gateway.close();
        backend.close();
    }

    private void openssl(String port, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                "-servername", "localhost"));
        command.addAll(List.of(options));
        ExternalTool.run(command, "", 30);
    }

    private void expectReason(String rule, String reason) throws InterruptedException {
        Eventually.until("a handshake failure counted as " + reason,
                () -> gateway.counter("gatehouse.tls.handshake.failures", "rule", rule, "reason", reason) == 1);
        Eventually.until("an access line with reason=" + reason, () -> LogCapture.lines().stream()
                .anyMatch(l -> l.contains("rule=" + rule) && l.contains("outcome=tls-failed reason=" + reason)));
        LogCapture.clear();
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateIsCertificateUnknownCaInTls13AndTls12() throws Exception {
        ExternalTool.require("openssl");
        Path systemCas = Path.of("/etc/ssl/certs/ca-certificates.crt");
        String trust = Files.exists(systemCas) ? systemCas.toString() : dir.resolve("mail.crt").toString();

        openssl(port, "-tls1_3", "-verify_return_error", "-CAfile", trust);
        expectReason("ok", "certificate-unknown-ca");
        openssl(port, "-tls1_2", "-verify_return_error", "-CAfile", trust);
        assertThat(gateway.counter("gatehouse.tls.handshake.failures", "rule", "ok", "reason",
                "certificate-unknown-ca")).isEqualTo(2);
    }

    @Test
    void curlRejectingTheCertificateIsNotOther() throws Exception {
        ExternalTool.require("curl");
        ExternalTool.run(List.of("curl", "-s", "--max-time", "10", "pop3s://127.0.0.1:" + port + "/"), "", 30);
        expectReason("ok", "certificate-unknown-ca");
    }

    @Test
    void anExpiredCertificateIsCertificateExpired() throws Exception {
        ExternalTool.require("openssl");
        openssl(expiredPort, "-verify_return_error", "-CAfile", dir.resolve("ca.crt").toString());
        expectReason("old", "certificate-expired");
    }

    @Test
    void noSharedGroupCipherOrVersionEachSaySo() throws Exception {
        ExternalTool.require("openssl");
        openssl(port, "-tls1_3", "-groups", "ffdhe2048");
        expectReason("ok", "no-shared-group");
        openssl(port, "-tls1_2", "-cipher", "AES128-SHA"); // BoringSSL says WRONG_CURVE
        expectReason("ok", "no-shared-cipher");
        openssl(port, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256");
        Eventually.until("a second no-shared-cipher", () -> gateway.counter("gatehouse.tls.handshake.failures",
                "rule", "ok", "reason", "no-shared-cipher") == 2);
        openssl(port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");
        expectReason("ok", "protocol-version");
    }

    @Test
    void reasonsFromEitherEngineMapToTheClosedList() {
        assertThat(Handshakes.failureReason(new javax.net.ssl.SSLHandshakeException(
                "error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA"))).isEqualTo(
                        "certificate-unknown-ca");
        assertThat(Handshakes.failureReason(new javax.net.ssl.SSLHandshakeException(
                "Received fatal alert: certificate_expired"))).isEqualTo("certificate-expired");
        assertThat(Handshakes.failureReason(new javax.net.ssl.SSLHandshakeException(
                "Received fatal alert: bad_certificate"))).isEqualTo("certificate-rejected");
        assertThat(Handshakes.failureReason(new javax.net.ssl.SSLHandshakeException(
                "error:100000f3:SSL routines:OPENSSL_internal:WRONG_CURVE"))).isEqualTo("no-shared-cipher");
        assertThat(Handshakes.failureReason(new javax.net.ssl.SSLHandshakeException(
                "error:1000010a:SSL routines:OPENSSL_internal:NO_SHARED_GROUP"))).isEqualTo("no-shared-group");
        assertThat(Handshakes.failureReason(new javax.net.ssl.SSLHandshakeException(
                "No common named group"))).isEqualTo("no-shared-group");
        assertThat(Handshakes.failureReason(new javax.net.ssl.SSLHandshakeException(
                "Received fatal alert: handshake_failure"))).isEqualTo("client-alert");
        assertThat(Handshakes.failureReason(new javax.net.ssl.SSLHandshakeException(
                "error:10000070:SSL routines:OPENSSL_internal:BAD_PACKET_LENGTH"))).isEqualTo("other");
        assertThat(Handshakes.alertReason(48)).isEqualTo("certificate-unknown-ca");
        assertThat(Handshakes.alertReason(46)).isEqualTo("certificate-rejected");
    }
}
