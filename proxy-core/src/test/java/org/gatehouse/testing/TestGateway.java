package org.gatehouse.testing;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.gateway.Gateway;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.service.Service;
import org.gatehouse.session.Transport;
import org.gatehouse.tls.TlsContexts;
import org.gatehouse.tls.TlsEngine;

/**
 * A gateway started from YAML text in a temporary folder, with a self-signed "test" certificate for localhost and
 * 127.0.0.1 generated into its state folder, and TLS clients that trust exactly that certificate.
 */
public final class TestGateway implements AutoCloseable {

    /** The certificates section every test rules file starts with. */
    public static final String CERTIFICATES = """
            certificates:
              test:
                selfSigned: [localhost, 127.0.0.1, "::1"]
            """;

    private final Service service;
    private final Gateway gateway;
    private final GatewayMetrics metrics = GatewayMetrics.prometheus();
    private final Path file;
    private final SSLContext clientContext;

    private TestGateway(Path dir, String yaml) throws Exception {
        this.file = dir.resolve("rules.yaml");
        // The admin endpoint on a free port, unless the test says where (its default, 9102, may be taken).
        Files.writeString(file, yaml.contains("admin:") ? yaml : "admin: { listen: \"127.0.0.1:0\" }\n" + yaml);
        RulesSnapshot initial = RulesSnapshot.load(file, TlsEngine.detect(), TlsContexts.Mode.RUN);
        this.service = Service.start(initial, () -> RulesSnapshot.load(file, TlsEngine.detect(), TlsContexts.Mode.RUN),
                file, metrics, Transport.detect());
        this.gateway = service.gateway();
        Path cert = initial.rules().stateDir().resolve("certificates").resolve("test.crt");
        this.clientContext = Files.exists(cert) ? trusting(cert) : null;
    }

    /** Starts a gateway on {@code yaml} (which should include {@link #CERTIFICATES} when it uses TLS). */
    public static TestGateway start(Path dir, String yaml) throws Exception {
        return new TestGateway(dir, yaml);
    }

    public Gateway gateway() {
        return gateway;
    }

    public Service service() {
        return service;
    }

    /** The rules file the gateway was started from, and reloads. */
    public Path file() {
        return file;
    }

    public MeterRegistry registry() {
        return metrics.registry();
    }

    /** The admin endpoint's base URL, {@code http://127.0.0.1:PORT}. */
    public String adminUrl() {
        InetSocketAddress a = service.adminAddress().orElseThrow();
        return "http://" + a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    public InetSocketAddress address(String rule) {
        return gateway.address(rule);
    }

    /** A TLS client connected to a rule's first listener, handshake done. */
    public SSLSocket tls(String rule, String... protocols) throws IOException {
        InetSocketAddress at = address(rule);
        SSLSocket socket = (SSLSocket) clientContext.getSocketFactory().createSocket(at.getAddress(), at.getPort());
        socket.setSoTimeout(20_000);
        if (protocols.length > 0) {
            socket.setEnabledProtocols(protocols);
        }
        socket.startHandshake();
        return socket;
    }

    /** Upgrades a plain client connection to TLS after STARTTLS (the JDK client, trusting the test certificate). */
    public SSLSocket upgrade(Socket plain) throws IOException {
        SSLSocket socket = (SSLSocket) clientContext.getSocketFactory()
                .createSocket(plain, "localhost", plain.getPort(), true);
        socket.setSoTimeout(20_000);
        socket.startHandshake();
        return socket;
    }

    /** The gateway's self-signed test certificate (PEM), for external clients to trust. */
    public Path certificate() {
        return gateway.snapshot().rules().stateDir().resolve("certificates").resolve("test.crt");
    }

    public SSLContext clientContext() {
        return clientContext;
    }

    /** A plain TCP client to a rule's first listener. */
    public Socket plain(String rule) throws IOException {
        InetSocketAddress at = address(rule);
        Socket socket = new Socket(at.getAddress(), at.getPort());
        socket.setSoTimeout(20_000);
        return socket;
    }

    public double counter(String name, String... tags) {
        var counter = metrics.registry().find(name).tags(tags).counter();
        return counter == null ? 0 : counter.count();
    }

    private static SSLContext trusting(Path certFile) throws Exception {
        X509Certificate cert;
        try (InputStream in = Files.newInputStream(certFile)) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("gatehouse", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    @Override
    public void close() {
        service.close();
    }
}
