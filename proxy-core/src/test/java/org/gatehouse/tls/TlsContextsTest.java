package org.gatehouse.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLEngine;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.load.RulesLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TlsContextsTest {

    @TempDir
    Path dir;

    private PublishingRules rules(String certFile, String keyFile) throws Exception {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, """
                certificates:
                  mail:
                    certificate: %s
                    privateKey: %s
                rules:
                  - name: pop3s
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    certificate: mail
                    backend: ["127.0.0.1:110"]
                """.formatted(certFile, keyFile));
        return RulesLoader.load(file);
    }

    private void writePem(String name, Object object) throws Exception {
        Files.writeString(dir.resolve(name), SelfSignedCertificates.toPem(object));
    }

    private static KeyPair keyPair(String algorithm) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
        generator.initialize(algorithm.equals("RSA") ? 2048 : 256);
        return generator.generateKeyPair();
    }

    /**
     * The "traditional" PEM form as openssl writes it: PKCS#1 for RSA, SEC1 with the curve and public key for EC (the
     * JDK's own encoding leaves both out of the SEC1 structure).
     */
    private static Object traditional(KeyPair pair) throws Exception {
        if (pair.getPrivate().getAlgorithm().equals("RSA")) {
            return pair.getPrivate();
        }
        var info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(pair.getPrivate().getEncoded());
        var inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
        var publicBits = org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(pair.getPublic().getEncoded())
                .getPublicKeyData();
        var sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, inner.getKey(), publicBits,
                info.getPrivateKeyAlgorithm().getParameters());
        return new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY", sec1.getEncoded());
    }

    private static TlsEngine engine(String which) {
        return which.equals("jdk") ? new TlsEngine(SslProvider.JDK, "JDK") : TlsEngine.detect();
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void offersOnlyTls12And13WithForwardSecretAeadCiphers(String which) throws Exception {
        KeyPair pair = keyPair("EC");
        writePem("mail.crt", SelfSignedCertificates.selfSign(pair, List.of("mail.example.test"), Instant.now()));
        writePem("mail.key", new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null));
        PublishingRules rules = rules("mail.crt", "mail.key");

        TlsContexts contexts = TlsContexts.build(rules, engine(which), TlsContexts.Mode.CHECK);
        SSLEngine engine = ((SslHandler) contexts
                .newHandler(rules.rule("pop3s").orElseThrow(), ByteBufAllocator.DEFAULT, 10_000)).engine();
        contexts.release(); // the engine keeps its own reference
        try {
            // The OpenSSL engine also lists "SSLv2Hello", a ClientHello format rather than a protocol, which BoringSSL
            // never accepts; every real protocol version other than 1.2 and 1.3 must be absent.
            assertThat(engine.getEnabledProtocols()).filteredOn(p -> !p.equals("SSLv2Hello"))
                    .containsExactlyInAnyOrder("TLSv1.2", "TLSv1.3");
            assertThat(engine.getEnabledCipherSuites()).isNotEmpty().allSatisfy(suite -> {
                assertThat(suite).matches(
                        "TLS_(AES_\\d+_GCM|CHACHA20_POLY1305)_SHA\\d+|TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_\\d+_GCM|CHACHA20_POLY1305)_SHA\\d+");
            });
        } finally {
            ReferenceCountUtil.release(engine);
        }
    }

    @Test
    void theNativeContextsLiveAsLongAsTheirLastReference() throws Exception {
        KeyPair pair = keyPair("EC");
        writePem("mail.crt", SelfSignedCertificates.selfSign(pair, List.of("mail.example.test"), Instant.now()));
        writePem("mail.key", new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null));
        PublishingRules rules = rules("mail.crt", "mail.key");
        TlsContexts contexts = TlsContexts.build(rules, TlsEngine.detect(), TlsContexts.Mode.CHECK);

        assertThat(contexts.tryRetain()).as("a connection's reference").isTrue();
        contexts.release(); // the owner's
        assertThat(contexts.released()).isFalse();
        SslHandler handler = (SslHandler) contexts.newHandler(
                rules.rule("pop3s").orElseThrow(), ByteBufAllocator.DEFAULT, 10_000);
        contexts.release(); // the connection's
        assertThat(contexts.released()).isTrue();
        assertThat(contexts.tryRetain()).as("no reference can be taken once freed").isFalse();
        contexts.rotateTicketKeys(); // harmless once freed
        assertThat(handler.engine().getEnabledProtocols()).as("an engine made before keeps its context").isNotEmpty();
        ReferenceCountUtil.release(handler.engine());
        assertThatThrownBy(contexts::release).isInstanceOf(IllegalStateException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"RSA", "EC"})
    void keyThatDoesNotMatchTheCertificateIsRefusedAtItsPlaceInTheFile(String algorithm) throws Exception {
        writePem("mail.crt",
                SelfSignedCertificates.selfSign(keyPair(algorithm), List.of("mail.example.test"), Instant.now()));
        writePem("other.key", traditional(keyPair(algorithm))); // PKCS#1 / SEC1 form
        PublishingRules rules = rules("mail.crt", "other.key");

        assertThatThrownBy(() -> TlsContexts.build(rules, TlsEngine.detect(), TlsContexts.Mode.CHECK))
                .isInstanceOfSatisfying(RulesException.class, e -> assertThat(e.problems()).singleElement().asString()
                        .startsWith(
                                dir.resolve("rules.yaml") + ":2:3: certificates.mail.privateKey: the private key in ")
                        .contains("does not match the certificate"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"RSA", "EC"})
    void pkcs1Sec1AndPkcs8KeysAreRead(String algorithm) throws Exception {
        KeyPair pair = keyPair(algorithm);
        writePem("mail.crt", SelfSignedCertificates.selfSign(pair, List.of("mail.example.test"), Instant.now()));
        writePem("traditional.key", traditional(pair));
        writePem("pkcs8.key", new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null));

        for (String key : List.of("traditional.key", "pkcs8.key")) {
            PublishingRules rules = rules("mail.crt", key);
            TlsContexts contexts = TlsContexts.build(rules, TlsEngine.detect(), TlsContexts.Mode.CHECK);
            ChannelHandler handler = contexts
                    .newHandler(rules.rule("pop3s").orElseThrow(), ByteBufAllocator.DEFAULT, 10_000);
            assertThat(handler).isInstanceOf(SslHandler.class);
            ReferenceCountUtil.release(((SslHandler) handler).engine());
            contexts.release();
        }
        assertThat(Files.readString(dir.resolve("traditional.key")))
                .startsWith("-----BEGIN " + algorithm + " PRIVATE KEY-----");
        assertThat(Files.readString(dir.resolve("pkcs8.key"))).startsWith("-----BEGIN PRIVATE KEY-----");
    }

    @ParameterizedTest
    @ValueSource(strings = {"not a certificate", ""})
    void garbageInTheCertificateFileIsRefused(String content) throws Exception {
        Files.writeString(dir.resolve("mail.crt"), content);
        writePem("mail.key", traditional(keyPair("EC")));
        PublishingRules rules = rules("mail.crt", "mail.key");

        assertThatThrownBy(() -> TlsContexts.build(rules, TlsEngine.detect(), TlsContexts.Mode.CHECK))
                .isInstanceOfSatisfying(RulesException.class, e -> assertThat(e.problems()).singleElement().asString()
                        .contains("certificates.mail.certificate: ").contains("holds no PEM certificate"));
    }
}
