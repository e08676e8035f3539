package org.gatehouse.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.ASN1OctetString;
import org.gatehouse.testing.FakeBackend;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.gatehouse.tls.AlpnChallenges;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tls-alpn-01 over real sockets: with an ACME certificate asking for it, every implicit-TLS listener serves a pending
 * challenge's certificate to a client that offers ALPN acme-tls/1 for its name, negotiates acme-tls/1 and closes,
 * without reaching the backend; any other client gets the rule's own certificate and its backend as before. (The
 * ACME directory is a closed port: the orders fail, which the challenge answer does not need.)
 */
class AcmeTlsAlpnTest {

    private static final String NAME = "alpn.gatehouse.test";

    @TempDir
    Path dir;

    private FakeBackend backend;
    private TestGateway gateway;
    private final byte[] validation = new byte[32];

    @BeforeEach
    void start() throws Exception {
        Arrays.fill(validation, (byte) 0x5a);
        LogCapture.clear();
        backend = FakeBackend.start("backend", FakeBackend.Mode.GREET);
        int closed;
        closed = TestRules.freePort();
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + """
                  public:
                    acme:
                      directory: "https://127.0.0.1:%d/dir"
                      names: [%s]
                      tlsAlpn01: true
                rules:
                  - name: pop3s
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    certificate: public
                    backend: ["%s"]
                  - name: imaps
                    listen: ["127.0.0.1:0"]
                    protocol: imap
                    certificate: test
                    backend: ["%s"]
                """.formatted(closed, NAME, backend.hostPort(), backend.hostPort()));
        AlpnChallenges.shared().put(NAME, validation);
    }

    @AfterEach
    void stop() {
        AlpnChallenges.shared().remove(NAME);
        gateway.close();
        backend.close();
    }

    private SSLSocket connect(String rule, String sni, String... alpn) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        InetSocketAddress at = gateway.address(rule);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(at.getAddress(), at.getPort());
        socket.setSoTimeout(20_000);
        SSLParameters params = socket.getSSLParameters();
        params.setServerNames(List.of(new SNIHostName(sni)));
        params.setApplicationProtocols(alpn);
        socket.setSSLParameters(params);
        socket.startHandshake();
        return socket;
    }

    @Test
    void aClientOfferingAcmeTls1GetsTheChallengeCertificateOnEveryTlsListener() throws Exception {
        for (String rule : List.of("pop3s", "imaps")) {
            try (SSLSocket socket = connect(rule, NAME, "acme-tls/1")) {
                assertThat(socket.getApplicationProtocol()).isEqualTo("acme-tls/1");
                X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                assertThat(served.getSubjectAlternativeNames()).singleElement()
                        .isEqualTo(List.of(2, NAME));
                assertThat(served.getCriticalExtensionOIDs()).contains("1.3.6.1.5.5.7.1.31");
                byte[] extension = ASN1OctetString.getInstance(served.getExtensionValue("1.3.6.1.5.5.7.1.31"))
                        .getOctets(); // extnValue, holding the DER of the Authorization OCTET STRING
                assertThat(ASN1OctetString.getInstance(extension).getOctets()).isEqualTo(validation);
                served.verify(served.getPublicKey()); // self-signed
                assertThat(socket.getInputStream().read()).as("closed after the handshake").isEqualTo(-1);
            }
        }
        assertThat(backend.accepted()).as("no challenge connection reaches the backend").isZero();
        assertThat(LogCapture.lines()).filteredOn(l -> l.contains("answered the ACME tls-alpn-01 challenge for "
                + NAME)).hasSize(2);
    }

    @Test
    void ordinaryClientsAreUnaffected() throws Exception {
        try (SSLSocket socket = connect("pop3s", NAME, "h2", "http/1.1")) {
            X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            assertThat(served.getExtensionValue("1.3.6.1.5.5.7.1.31")).isNull();
            assertThat(served.getSubjectAlternativeNames()).anySatisfy(n -> assertThat(n.get(1)).isEqualTo(NAME));
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("+OK backend ready");
        }
        try (SSLSocket socket = connect("imaps", "localhost")) {
            X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            assertThat(served.getExtensionValue("1.3.6.1.5.5.7.1.31")).isNull();
            assertThat(served.getSubjectAlternativeNames()).anySatisfy(n -> assertThat(n.get(1)).isEqualTo(
                    "localhost"));
            assertThat(new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
                    .readLine()).as("the backend's greeting").isNotNull();
        }
        assertThat(backend.accepted()).isEqualTo(2);
    }

    @Test
    void withoutTlsAlpn01TheListenersIgnoreAcmeTls1() throws Exception {
        gateway.close();
        gateway = TestGateway.start(Files.createDirectories(dir.resolve("plain")), TestGateway.CERTIFICATES + """
                rules:
                  - name: imaps
                    listen: ["127.0.0.1:0"]
                    protocol: imap
                    certificate: test
                    backend: ["%s"]
                """.formatted(backend.hostPort()));
        AlpnChallenges.shared().put("localhost", validation);
        try (SSLSocket socket = connect("imaps", "localhost", "acme-tls/1")) {
            assertThat(socket.getApplicationProtocol()).isEmpty(); // no ALPN configured on the rule's context
            X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            assertThat(served.getExtensionValue("1.3.6.1.5.5.7.1.31")).isNull();
        } finally {
            AlpnChallenges.shared().remove("localhost");
        }
    }

    @Test
    void acmeTls1ForANameWithNoPendingChallengeIsClosed() {
        assertThatThrownBy(() -> connect("pop3s", "other.gatehouse.test", "acme-tls/1").close())
                .isInstanceOf(IOException.class);
        assertThat(backend.accepted()).isZero();
        assertThat(LogCapture.lines()).anySatisfy(l -> assertThat(l).contains(
                "closed a tls-alpn-01 handshake").contains("no challenge is pending for that name"));
    }
}
