package org.gatehouse.acme;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.gatehouse.gateway.Reloader;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.FakeBackend;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.Pebble;
import org.gatehouse.testing.TestDnsServer;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ACME against a real CA: Debian's Pebble validates the gateway's own http-01 listener on loopback (names resolved by
 * a test DNS server), and the certificate it issues is what the gateway's TLS listener serves, at start and after a
 * renewal, without dropping a connection in progress. A challenge that cannot succeed, a CA that is gone and a reload
 * in the middle of a renewal leave the gateway serving the last good certificate.
 */
class AcmePebbleTest {

    private static final Duration ISSUE = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private TestDnsServer dns;
    private Pebble pebble;
    private FakeBackend backend;
    private TestGateway gateway;
    private int http01Port;
    private int tlsPort;

    @BeforeEach
    void start() throws Exception {
        dns = TestDnsServer.start();
        dns.address("mail.gatehouse.test", "127.0.0.1", 60);
        dns.address("nobody.gatehouse.test", "127.0.0.2", 60); // the http-01 listener is on 127.0.0.1 only
        http01Port = TestRules.freePort();
        tlsPort = TestRules.freePort();
        pebble = Pebble.start(dir, http01Port, tlsPort, dns.address());
        backend = FakeBackend.start("backend", FakeBackend.Mode.GREET);
        LogCapture.clear();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        backend.close();
        pebble.close();
        dns.close();
    }

    private void startGateway(String name) throws Exception {
        startGateway(name, "http01: \"127.0.0.1:" + http01Port + "\"", 0);
    }

    /** One pop3s rule on {@code listenPort} (0: any) with an ACME certificate answering {@code challenge}. */
    private void startGateway(String name, String challenge, int listenPort) throws Exception {
        gateway = TestGateway.start(dir, """
                certificates:
                  public:
                    acme:
                      directory: "%s"
                      contact: ["mailto:postmaster@gatehouse.test"]
                      names: [%s]
                      %s
                      caCertificate: "%s"
                rules:
                  - name: pop3s
                    listen: ["127.0.0.1:%d"]
                    protocol: pop3
                    certificate: public
                    backend: ["%s"]
                """.formatted(pebble.directory(), name, challenge, pebble.listenerCa(), listenPort,
                backend.hostPort()));
    }

    /** The certificate a new client of pop3s is served (trusting anything: what is served is the question). */
    private X509Certificate served() throws Exception {
        return (X509Certificate) connect().getSession().getPeerCertificates()[0];
    }

    private SSLSocket connect() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[]{new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String auth) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String auth) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        InetSocketAddress at = gateway.address("pop3s");
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(at.getAddress(), at.getPort());
        socket.setSoTimeout(20_000);
        socket.startHandshake();
        return socket;
    }

    private boolean issuedByPebble(X509Certificate c) {
        return c.getIssuerX500Principal().getName().contains("Pebble");
    }

    private double meter(String name, String result) {
        return gateway.counter(name, "certificate", "public", "result", result);
    }

    private double gauge(String name) {
        return gateway.registry().find(name).tag("certificate", "public").gauge().value();
    }

    private X509Certificate waitForIssued(double orders) throws Exception {
        Eventually.until("the CA issued " + orders + " certificate(s)", ISSUE,
                () -> meter("gatehouse.acme.orders", "issued") >= orders);
        X509Certificate c = served();
        assertThat(issuedByPebble(c)).as("served %s", c.getIssuerX500Principal()).isTrue();
        return c;
    }

    @Test
    void issuesAtStartThenRenewsWithoutDroppingAConnection() throws Exception {
        startGateway("mail.gatehouse.test");
        assertThat(LogCapture.lines()).anySatisfy(l -> assertThat(l).contains("no certificate from the ACME CA yet"));
        X509Certificate first = waitForIssued(1);
        assertThat(first.getSubjectAlternativeNames()).anySatisfy(n -> assertThat(n.get(1)).isEqualTo(
                "mail.gatehouse.test"));
        assertThat(gauge("gatehouse.acme.certificate.temporary")).isZero();
        assertThat(Files.readString(gateway.gateway().snapshot().rules().stateDir().resolve(
                "acme/public/current/certificate.pem"))).startsWith("-----BEGIN CERTIFICATE-----");
        try (SSLSocket open = connect()) {
            BufferedReader in = new BufferedReader(new InputStreamReader(open.getInputStream(),
                    StandardCharsets.US_ASCII));
            OutputStream out = open.getOutputStream();
            assertThat(in.readLine()).isEqualTo("+OK backend ready");
            gateway.service().acme().orElseThrow().renewNow("public");
            X509Certificate second = waitForIssued(2);
            assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
            // The connection from before the renewal goes on with the certificate it started with.
            out.write("NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(in.readLine()).startsWith("+OK");
        }
        assertThat(meter("gatehouse.acme.orders", "failed")).isZero();
    }

    @Test
    void issuesWithTlsAlpn01AnsweredOnTheGatewaysOwnTlsListener() throws Exception {
        // No http-01 listener: Pebble can only validate by connecting to pop3s with ALPN acme-tls/1.
        startGateway("mail.gatehouse.test", "tlsAlpn01: true", tlsPort);
        Eventually.until("the CA issued", ISSUE, () -> meter("gatehouse.acme.orders", "issued") >= 1);
        assertThat(backend.accepted()).as("the CA's validation never reached the backend").isZero();
        X509Certificate issued = waitForIssued(1);
        assertThat(issued.getSubjectAlternativeNames()).anySatisfy(n -> assertThat(n.get(1)).isEqualTo(
                "mail.gatehouse.test"));
        assertThat(gateway.registry().find("gatehouse.acme.tls.alpn.answers").functionCounter().count())
                .isGreaterThanOrEqualTo(1);
        assertThat(LogCapture.lines()).anySatisfy(l -> assertThat(l)
                .contains("answered the ACME tls-alpn-01 challenge for mail.gatehouse.test"));
        assertThat(meter("gatehouse.acme.orders", "failed")).isZero();
    }

    @Test
    void aChallengeThatFailsKeepsTheTemporaryCertificateAndIsCounted() throws Exception {
        startGateway("nobody.gatehouse.test");
        Eventually.until("the order failed", ISSUE, () -> meter("gatehouse.acme.orders", "failed") >= 1);
        assertThat(gauge("gatehouse.acme.failures.consecutive")).isGreaterThanOrEqualTo(1);
        assertThat(gauge("gatehouse.acme.certificate.temporary")).isEqualTo(1);
        X509Certificate c = served();
        assertThat(issuedByPebble(c)).isFalse();
        assertThat(c.getSubjectX500Principal()).isEqualTo(c.getIssuerX500Principal()); // the self-signed stand-in
        assertThat(LogCapture.lines()).anySatisfy(l -> assertThat(l).startsWith("gatehouse.acme ")
                .contains("ACME order failed certificate=public")
                .contains("the http-01 challenge for nobody.gatehouse.test ended INVALID")
                .contains("the last good certificate stays"));
    }

    @Test
    void aCaThatIsDownLeavesTheLastGoodCertificateServed() throws Exception {
        startGateway("mail.gatehouse.test");
        X509Certificate issued = waitForIssued(1);
        pebble.close();
        gateway.service().acme().orElseThrow().renewNow("public");
        Eventually.until("the renewal failed", ISSUE, () -> meter("gatehouse.acme.orders", "failed") >= 1);
        assertThat(served().getSerialNumber()).isEqualTo(issued.getSerialNumber());
        assertThat(gauge("gatehouse.acme.failures.consecutive")).isEqualTo(1);
        assertThat(LogCapture.lines()).anySatisfy(l -> assertThat(l).contains("ACME order failed certificate=public")
                .contains("AcmeNetworkException").contains("ConnectException"));
        assertThat(gauge("gatehouse.acme.certificate.temporary")).isZero();
    }

    @Test
    void reloadsDuringARenewalServeAConsistentCertificateThroughout() throws Exception {
        startGateway("mail.gatehouse.test");
        X509Certificate first = waitForIssued(1);
        gateway.service().acme().orElseThrow().renewNow("public");
        List<CompletableFuture<Reloader.Outcome>> reloads = new ArrayList<>();
        while (meter("gatehouse.acme.orders", "issued") < 2 && reloads.size() < 200) {
            reloads.add(gateway.service().reloader().request("test"));
            X509Certificate now = served(); // a key that does not fit its certificate would fail the handshake
            assertThat(issuedByPebble(now)).isTrue();
            Thread.sleep(20);
        }
        X509Certificate second = waitForIssued(2);
        assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
        for (CompletableFuture<Reloader.Outcome> r : reloads) {
            assertThat(r.get().success()).isTrue();
        }
        assertThat(meter("gatehouse.acme.orders", "failed")).isZero();
    }
}
