package org.gatehouse.tls;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.netty.handler.ssl.OpenSsl;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.gatehouse.testing.ExternalTool;
import org.gatehouse.testing.FakeBackend;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestCertificates;
import org.gatehouse.testing.TestCertificates.Ca;
import org.gatehouse.testing.TestGateway;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OCSP stapling against a CA's responder on loopback, seen by openssl s_client -status. */
class OcspStaplingTest {

    @TempDir
    Path dir;

    @Test
    void theResponderAnswerIsStapledToTheHandshake() throws Exception {
        ExternalTool.require("openssl");
        Assumptions.assumeTrue(OpenSsl.isAvailable(), "OCSP stapling needs the OpenSSL engine");
        Ca ca = Ca.create("Stapling CA");
        AtomicInteger asked = new AtomicInteger();
        HttpServer responder = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        responder.createContext("/ocsp", exchange -> {
            try {
                byte[] answer = ca.ocspResponse(exchange.getRequestBody().readAllBytes());
                asked.incrementAndGet();
                exchange.getResponseHeaders().set("Content-Type", "application/ocsp-response");
                exchange.sendResponseHeaders(200, answer.length);
                exchange.getResponseBody().write(answer);
            } catch (Exception e) {
                exchange.sendResponseHeaders(500, -1);
            } finally {
                exchange.close();
            }
        });
        responder.start();
        KeyPair keys = TestCertificates.ec();
        String url = "http://127.0.0.1:" + responder.getAddress().getPort() + "/ocsp";
        Files.writeString(dir.resolve("mail.crt"), TestCertificates.pem(ca.signWithOcsp(keys, url, "mail.example.test"),
                ca.certificate()));
        Files.writeString(dir.resolve("mail.key"), TestCertificates.pkcs8(keys.getPrivate()));
        Files.writeString(dir.resolve("plain.crt"),
                TestCertificates.pem(ca.sign(keys, "mail.example.test"), ca.certificate()));
        try (FakeBackend backend = FakeBackend.start("backend", FakeBackend.Mode.GREET);
                TestGateway gateway = TestGateway.start(dir,
                        """
                                certificates:
                                  mail: { certificate: mail.crt, privateKey: mail.key, ocspStapling: true }
                                  plain: { certificate: plain.crt, privateKey: mail.key, ocspStapling: true }
                                rules:
                                  - { name: stapled, listen: ["127.0.0.1:0"], protocol: pop3, certificate: mail, backend: ["%1$s"] }
                                  - { name: unstapled, listen: ["127.0.0.1:0"], protocol: pop3, certificate: plain, backend: ["%1$s"] }
                                """
                                .formatted(backend.hostPort()))) {
            assertThat(asked).as("fetched when the certificate was loaded").hasValue(1);
            assertThat(gateway.gateway().snapshot().warnings()).extracting(Object::toString)
                    .anySatisfy(w -> assertThat(w)
                            .contains("certificates.plain.ocspStapling: is off: it names no OCSP responder"));

            ExternalTool.Result stapled = ExternalTool.run(List.of("openssl", "s_client", "-status", "-connect",
                    "127.0.0.1:" + gateway.address("stapled").getPort()), "", 30);
            assertThat(stapled.output()).as(stapled.output()).contains("OCSP Response Status: successful")
                    .contains("Cert Status: good");
            ExternalTool.Result none = ExternalTool.run(List.of("openssl", "s_client", "-status", "-connect",
                    "127.0.0.1:" + gateway.address("unstapled").getPort()), "", 30);
            assertThat(none.output()).contains("OCSP response: no response sent");
        } finally {
            responder.stop(0);
        }
    }

    @Test
    void anOversizedResponderAnswerIsNotReadWholeNorStapled() throws Exception {
        Assumptions.assumeTrue(OpenSsl.isAvailable(), "OCSP stapling needs the OpenSSL engine");
        Ca ca = Ca.create("Stapling CA");
        AtomicLong sent = new AtomicLong();
        HttpServer responder = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        responder.createContext("/ocsp", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                exchange.sendResponseHeaders(200, 0); // chunked, no length announced
                byte[] chunk = new byte[64 * 1024];
                for (int i = 0; i < 1600; i++) { // 100 MiB, unless the reader gives up
                    exchange.getResponseBody().write(chunk);
                    sent.addAndGet(chunk.length);
                }
            } catch (IOException readerLeft) {
                // the gateway stopped reading: what this test wants
            }
        });
        responder.start();
        KeyPair keys = TestCertificates.ec();
        String url = "http://127.0.0.1:" + responder.getAddress().getPort() + "/ocsp";
        Files.writeString(dir.resolve("mail.crt"), TestCertificates.pem(ca.signWithOcsp(keys, url, "mail.example.test"),
                ca.certificate()));
        Files.writeString(dir.resolve("mail.key"), TestCertificates.pkcs8(keys.getPrivate()));
        LogCapture.clear();
        try (FakeBackend backend = FakeBackend.start("backend", FakeBackend.Mode.GREET);
                TestGateway gateway = TestGateway.start(dir,
                        """
                                certificates:
                                  mail: { certificate: mail.crt, privateKey: mail.key, ocspStapling: true }
                                rules:
                                  - { name: stapled, listen: ["127.0.0.1:0"], protocol: pop3, certificate: mail, backend: ["%s"] }
                                """
                                .formatted(backend.hostPort()))) {
            assertThat(LogCapture.lines())
                    .anySatisfy(l -> assertThat(l).contains("OCSP fetch failed")
                            .contains("larger than 64 KiB").contains("no response is stapled"));
            assertThat(sent.get()).as("bytes the responder got to send").isLessThan(50L * 1024 * 1024);
        } finally {
            responder.stop(0);
        }
    }
}
