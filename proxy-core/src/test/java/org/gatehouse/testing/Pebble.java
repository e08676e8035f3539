package org.gatehouse.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's Pebble (Let's Encrypt's RFC 8555 test CA) as a process on loopback: a CA and certificate generated here for
 * its own HTTPS listener (the package ships none), real http-01 validation against {@code httpPort} on 127.0.0.1, names
 * resolved by the given DNS server, and no random sleeps or nonce rejections.
 */
public final class Pebble implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path caFile;
    private final Path log;

    private Pebble(Process process, int port, Path caFile, Path log) {
        this.process = process;
        this.port = port;
        this.caFile = caFile;
        this.log = log;
    }

    /** Starts Pebble validating http-01 on 127.0.0.1:{@code httpPort}, resolving names at {@code dns}. */
    public static Pebble start(Path dir, int httpPort, InetSocketAddress dns) throws Exception {
        return start(dir, httpPort, TestRules.freePort(), dns);
    }

    /** As {@link #start(Path, int, InetSocketAddress)}, validating tls-alpn-01 on 127.0.0.1:{@code tlsPort}. */
    public static Pebble start(Path dir, int httpPort, int tlsPort, InetSocketAddress dns) throws Exception {
        ExternalTool.require("pebble");
        TestCertificates.Ca ca = TestCertificates.Ca.create("Gatehouse test CA for Pebble's listener");
        KeyPair keys = TestCertificates.ec();
        Path caFile = dir.resolve("pebble-listener-ca.pem");
        Files.writeString(caFile, TestCertificates.pem(ca.certificate()));
        Files.writeString(dir.resolve("pebble-cert.pem"), TestCertificates.pem(ca.sign(keys, "localhost")));
        Files.writeString(dir.resolve("pebble-key.pem"), TestCertificates.pkcs8(keys.getPrivate()));
        int port = TestRules.freePort();
        int management = TestRules.freePort();
        Files.writeString(dir.resolve("pebble.json"), """
                {"pebble": {"listenAddress": "127.0.0.1:%d", "managementListenAddress": "127.0.0.1:%d",
                  "certificate": "%s", "privateKey": "%s", "httpPort": %d, "tlsPort": %d,
                  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
                """.formatted(port, management, dir.resolve("pebble-cert.pem"), dir.resolve("pebble-key.pem"),
                httpPort, tlsPort));
        Path log = dir.resolve("pebble.log");
        ProcessBuilder pb = new ProcessBuilder("pebble", "-config", dir.resolve("pebble.json").toString(),
                "-dnsserver", dns.getAddress().getHostAddress() + ":" + dns.getPort())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PEBBLE_VA_NOSLEEP", "1");
        pb.environment().put("PEBBLE_WFE_NONCEREJECT", "0");
        pb.environment().put("PEBBLE_AUTHZREUSE", "0");
        Pebble pebble = new Pebble(pb.start(), port, caFile, log);
        Eventually.until("pebble listens", Duration.ofSeconds(20), pebble::listening);
        return pebble;
    }

    private boolean listening() {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The ACME directory URL. */
    public String directory() {
        return "https://localhost:" + port + "/dir";
    }

    /** The CA of Pebble's own HTTPS listener (not of what it issues). */
    public Path listenerCa() {
        return caFile;
    }

    /** What Pebble logged so far. */
    public List<String> log() throws IOException {
        return Files.readAllLines(log);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
