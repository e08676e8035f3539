package org.gatehouse.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.gatehouse.gateway.Reloader;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.ExternalTool;
import org.gatehouse.testing.FakeBackend;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestCertificates;
import org.gatehouse.testing.TestCertificates.Ca;
import org.gatehouse.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS as clients meet it, over real sockets: SNI picks the certificate, the policies refuse what they should,
 * client certificates are required and logged, sessions resume, and a reload swaps the certificate for new
 * connections only. Checked with the JDK's client, openssl s_client and sslscan.
 */
class TlsPolicyIntegrationTest {

    @TempDir
    Path dir;

    private Ca ca;
    private FakeBackend backend;
    private TestGateway gateway;
    private String yaml;

    @BeforeEach
    void start() throws Exception {
        ca = Ca.create("Gatehouse Test CA");
        Files.writeString(dir.resolve("ca.crt"), TestCertificates.pem(ca.certificate()));
        certificate("mail", "mail.example.test");
        certificate("legacy", "legacy.example.test");
        backend = FakeBackend.start("backend", FakeBackend.Mode.GREET);
        yaml = """
                certificates:
                  mail: { certificate: mail.crt, privateKey: mail.key }
                  legacy: { certificate: legacy.crt, privateKey: legacy.key }
                rules:
                  - { name: sni, listen: ["127.0.0.1:0"], protocol: pop3, certificate: [mail, legacy], backend: ["%1$s"] }
                  - { name: modern, listen: ["127.0.0.1:0"], protocol: pop3, certificate: mail, tlsPolicy: modern,
                      backend: ["%1$s"] }
                  - { name: intermediate, listen: ["127.0.0.1:0"], protocol: pop3, certificate: mail, backend: ["%1$s"] }
                  - { name: legacy, listen: ["127.0.0.1:0"], protocol: pop3, certificate: mail, tlsPolicy: legacy,
                      backend: ["%1$s"] }
                  - name: client-cert
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    certificate: mail
                    clientCertificate: { mode: require, trust: ca.crt }
                    backend: ["%1$s"]
                """
                .formatted(backend.hostPort());
        gateway = TestGateway.start(dir, yaml);
        LogCapture.clear();
    }

    @AfterEach
    void stop() {
        gateway.close();
        backend.close();
    }

    private KeyPair certificate(String name, String host) throws Exception {
        KeyPair keys = TestCertificates.ec();
        Files.writeString(dir.resolve(name + ".crt"), TestCertificates.pem(ca.sign(keys, host), ca.certificate()));
        Files.writeString(dir.resolve(name + ".key"), TestCertificates.pkcs8(keys.getPrivate()));
        return keys;
    }

    /** A client trusting the test CA, optionally presenting a certificate of its own. */
    private SSLContext client(KeyPair clientKeys, X509Certificate clientCertificate) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (clientKeys != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("me", clientKeys.getPrivate(), "x".toCharArray(), new Certificate[]{
                    clientCertificate, ca.certificate()});
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, "x".toCharArray());
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    private SSLSocket connect(SSLContext context, String rule, String sni, String... protocols) throws Exception {
        Socket plain = new Socket(gateway.address(rule).getAddress(), gateway.address(rule).getPort());
        plain.setSoTimeout(20_000);
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, "127.0.0.1", plain.getPort(), true);
        SSLParameters parameters = tls.getSSLParameters();
        if (sni != null) {
            parameters.setServerNames(List.of(new SNIHostName(sni)));
        }
        if (protocols.length > 0) {
            parameters.setProtocols(protocols);
        }
        tls.setSSLParameters(parameters);
        tls.startHandshake();
        return tls;
    }

    private static String servedName(SSLSocket socket) throws Exception {
        X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
        return served.getSubjectX500Principal().getName();
    }

    @Test
    void sniPicksTheCertificateAndTheFirstIsTheDefault() throws Exception {
        // A client per connection: a resumed session would show the certificate of the session it resumes.
        try (SSLSocket legacy = connect(client(null, null), "sni", "legacy.example.test");
                SSLSocket mail = connect(client(null, null), "sni", "mail.example.test");
                SSLSocket none = connect(client(null, null), "sni", null);
                SSLSocket other = connect(client(null, null), "sni", "unknown.example.test")) {
            assertThat(servedName(legacy)).isEqualTo("CN=legacy.example.test");
            assertThat(servedName(mail)).isEqualTo("CN=mail.example.test");
            assertThat(servedName(none)).isEqualTo("CN=mail.example.test");
            assertThat(servedName(other)).isEqualTo("CN=mail.example.test");
            assertThat(new LineClient(legacy).readLine()).startsWith("+OK backend");
        }
    }

    @Test
    void modernRefusesTls12AndIntermediateServesIt() throws Exception {
        SSLContext client = client(null, null);
        assertThatThrownBy(() -> connect(client, "modern", null, "TLSv1.2").close())
                .isInstanceOf(SSLHandshakeException.class);
        try (SSLSocket tls13 = connect(client, "modern", null)) {
            assertThat(tls13.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
        try (SSLSocket tls12 = connect(client, "intermediate", null, "TLSv1.2")) {
            assertThat(tls12.getSession().getProtocol()).isEqualTo("TLSv1.2");
            assertThat(tls12.getSession().getCipherSuite()).matches(".*(GCM|CHACHA20).*");
        }
        Eventually.until("the refused handshake is counted", () -> gateway.counter("gatehouse.tls.handshake.failures",
                "rule", "modern", "reason", "protocol-version")
                + gateway.counter("gatehouse.tls.handshake.failures", "rule",
                        "modern", "reason", "other") >= 1);
    }

    /** openssl at security level 0 still offers TLS 1.1, which the JDK's client no longer does. */
    private ExternalTool.Result openssl(String rule, String... options) throws Exception {
        ExternalTool.require("openssl");
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-ign_eof", "-connect",
                "127.0.0.1:" + gateway.address(rule).getPort(), "-servername", "mail.example.test"));
        command.addAll(List.of(options));
        return ExternalTool.run(command, "QUIT\r\n", 30);
    }

    @Test
    void tls11IsRefusedUnderIntermediateAndServedUnderLegacy() throws Exception {
        ExternalTool.Result refused = openssl("intermediate", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0");
        assertThat(refused.exitCode()).as(refused.output()).isNotZero();
        ExternalTool.Result tls10 = openssl("intermediate", "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0");
        assertThat(tls10.exitCode()).as(tls10.output()).isNotZero();

        ExternalTool.Result legacy = openssl("legacy", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0");
        if (gateway.gateway().snapshot().tls().engine().provider() != SslProvider.JDK) {
            assertThat(legacy.output()).as(legacy.output()).contains("Protocol  : TLSv1.1");
            assertThat(legacy.output()).contains("+OK backend");
        } else {
            assertThat(legacy.exitCode()).as("the JDK engine refuses TLS 1.1 whatever the policy").isNotZero();
        }
    }

    @Test
    void sslscanFindsNeitherOldVersionsNorNonAeadCiphersUnderIntermediate() throws Exception {
        ExternalTool.require("sslscan");
        ExternalTool.Result scan = ExternalTool.run(List.of("sslscan", "--no-colour", "--no-heartbleed",
                "127.0.0.1:" + gateway.address("intermediate").getPort()), "", 120);
        assertThat(scan.exitCode()).as(scan.output()).isZero();
        List<String> accepted = scan.output().lines().filter(l -> l.matches("^(Preferred|Accepted)\\s.*")).toList();
        assertThat(accepted).as(scan.output()).isNotEmpty();
        assertThat(accepted).allSatisfy(l -> assertThat(l).containsPattern("TLSv1\\.[23]")
                .containsPattern("(GCM|CHACHA20|TLS_AES)")
                .containsPattern("(128|256) bits"));
        assertThat(scan.output()).containsPattern("SSLv3\\s+disabled").containsPattern("TLSv1\\.0\\s+disabled")
                .containsPattern("TLSv1\\.1\\s+disabled");
    }

    @Test
    void aRequiredClientCertificateIsCheckedAndItsSubjectLogged() throws Exception {
        assertThatThrownBy(() -> {
            try (SSLSocket s = connect(client(null, null), "client-cert", null)) {
                new LineClient(s).readLine(); // TLS 1.3 reports the refusal at the first read
            }
        }).isInstanceOf(IOException.class);

        KeyPair alice = TestCertificates.ec();
        X509Certificate aliceCert = ca.sign(alice, "alice.example.test");
        try (SSLSocket s = connect(client(alice, aliceCert), "client-cert", null); LineClient c = new LineClient(s)) {
            assertThat(c.readLine()).startsWith("+OK backend");
            assertThat(c.command("QUIT")).startsWith("+OK");
        }
        Eventually.until("the access line names the client's certificate", () -> LogCapture.lines().stream()
                .anyMatch(l -> l.contains("rule=client-cert") && l.contains("client_cert=\"CN=alice.example.test\"")));
    }

    @Test
    void sessionsResume() throws Exception {
        ExternalTool.require("openssl");
        Path session = dir.resolve("session.pem");
        ExternalTool.Result first = openssl("intermediate", "-tls1_2", "-sess_out", session.toString());
        assertThat(first.output()).as(first.output()).contains("+OK backend");
        ExternalTool.Result second = openssl("intermediate", "-tls1_2", "-sess_in", session.toString());
        assertThat(second.output()).as(second.output()).contains("Reused, TLSv1.2");
    }

    @Test
    void ticketsOutliveOneKeyRotationButNotTwo() throws Exception {
        ExternalTool.require("openssl");
        Assumptions.assumeTrue(OpenSsl.isAvailable(), "session tickets are the OpenSSL engine's");
        Path ticket = dir.resolve("t.pem");
        assertThat(openssl("intermediate", "-tls1_2", "-sess_out", ticket.toString()).output()).contains("+OK backend");

        gateway.gateway().snapshot().tls().rotateTicketKeys();
        assertThat(openssl("intermediate", "-tls1_2", "-sess_in", ticket.toString()).output()).as("previous key kept")
                .contains("Reused, TLSv1.2");
        gateway.gateway().snapshot().tls().rotateTicketKeys();
        gateway.gateway().snapshot().tls().rotateTicketKeys();
        ExternalTool.Result afterTwo = openssl("intermediate", "-tls1_2", "-sess_in", ticket.toString());
        assertThat(afterTwo.output()).as("a ticket two keys old is not accepted").contains("New, TLSv1.2")
                .doesNotContain("Reused, TLSv1.2");
    }

    @Test
    void aReloadedCertificateServesNewConnectionsWhileOpenOnesKeepTheirs() throws Exception {
        SSLContext client = client(null, null);
        try (SSLSocket before = connect(client, "intermediate", null); LineClient c = new LineClient(before)) {
            assertThat(c.readLine()).startsWith("+OK backend");
            BigInteger oldSerial = ((X509Certificate) before.getSession().getPeerCertificates()[0])
                    .getSerialNumber();

            certificate("mail", "mail.example.test"); // renewed: a new key and certificate in the same files
            Reloader.Outcome outcome = gateway.service().reloader().request("test").get(30, TimeUnit.SECONDS);
            assertThat(outcome.success()).as(outcome.summary()).isTrue();

            try (SSLSocket after = connect(client, "intermediate", null)) {
                assertThat(((X509Certificate) after.getSession().getPeerCertificates()[0]).getSerialNumber())
                        .isNotEqualTo(oldSerial);
            }
            assertThat(c.command("NOOP")).as("the open session carries on").startsWith("+OK backend");
        }
    }
}
