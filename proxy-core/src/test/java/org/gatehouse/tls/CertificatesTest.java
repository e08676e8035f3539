package org.gatehouse.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.Secret;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.load.RulesLoader;
import org.gatehouse.testing.TestCertificates;
import org.gatehouse.testing.TestCertificates.Ca;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every key and container format, and every check, through the rules file as an operator writes it. */
class CertificatesTest {

    @TempDir
    Path dir;

    private final Ca ca;

    CertificatesTest() throws Exception {
        ca = Ca.create("Test CA");
    }

    private static final String RULE = """
            rules:
              - name: pop3s
                listen: ["127.0.0.1:0"]
                protocol: pop3
                certificate: mail
                backend: ["127.0.0.1:110"]
            """;

    private TlsContexts build(String certificateYaml) throws Exception {
        return build(certificateYaml, RULE);
    }

    private TlsContexts build(String certificateYaml, String rules) throws Exception {
        Path file = Files.writeString(dir.resolve("rules.yaml"),
                "certificates:\n  mail:\n" + certificateYaml.indent(4) + rules);
        PublishingRules loaded = RulesLoader.load(file);
        TlsContexts contexts = TlsContexts.build(loaded, TlsEngine.detect(), TlsContexts.Mode.CHECK);
        built.add(contexts);
        return contexts;
    }

    private final List<TlsContexts> built = new ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void releaseContexts() {
        built.forEach(TlsContexts::release);
    }

    private List<String> problems(String certificateYaml) {
        RulesException e = org.junit.jupiter.api.Assertions.assertThrows(RulesException.class,
                () -> build(certificateYaml));
        return e.problems().stream().map(p -> p.toString().replace(dir.toString() + "/", "")).toList();
    }

    private static List<String> warnings(TlsContexts tls, Path dir) {
        return tls.warnings().stream().map(Problem::toString).map(w -> w.replace(dir.toString() + "/", "")).toList();
    }

    private void write(String name, String content) throws Exception {
        Files.writeString(dir.resolve(name), content);
    }

    @Test
    void rsaKeysAsPkcs1OrPkcs8AndEcKeysAsPkcs8Load() throws Exception {
        KeyPair rsa = TestCertificates.rsa();
        write("rsa.crt", TestCertificates.pem(ca.sign(rsa, "mail.example.test"), ca.certificate()));
        write("rsa-pkcs1.key", TestCertificates.pem(rsa.getPrivate()));
        write("rsa-pkcs8.key", TestCertificates.pkcs8(rsa.getPrivate()));
        KeyPair ec = TestCertificates.ec();
        write("ec.crt", TestCertificates.pem(ca.sign(ec, "mail.example.test")));
        write("ec.key", TestCertificates.pkcs8(ec.getPrivate()));

        assertThat(Files.readString(dir.resolve("rsa-pkcs1.key"))).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        for (String yaml : List.of("certificate: rsa.crt\nprivateKey: rsa-pkcs1.key",
                "certificate: rsa.crt\nprivateKey: "
                        + "rsa-pkcs8.key",
                "certificate: ec.crt\nprivateKey: ec.key")) {
            assertThat(build(yaml).expiries()).as(yaml).containsKey("mail");
        }
    }

    @Test
    void anEncryptedPkcs8KeyIsDecryptedWithAPassphraseFromAFileOrTheEnvironment() throws Exception {
        KeyPair ec = TestCertificates.ec();
        write("mail.crt", TestCertificates.pem(ca.sign(ec, "mail.example.test")));
        write("file.key", TestCertificates.encryptedPkcs8(ec.getPrivate(), "correct horse".toCharArray()));
        write("pass.txt", "correct horse\n");
        // The environment cannot be set from a test: the key is encrypted with a variable the process has.
        String path = System.getenv("PATH");
        write("env.key", TestCertificates.encryptedPkcs8(ec.getPrivate(), path.toCharArray()));

        assertThat(Files.readString(dir.resolve("file.key"))).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        assertThat(build("certificate: mail.crt\nprivateKey: file.key\npassphrase: { file: pass.txt }").expiries())
                .containsKey("mail");
        assertThat(build("certificate: mail.crt\nprivateKey: env.key\npassphrase: { env: PATH }").expiries())
                .containsKey("mail");
    }

    @Test
    void aWrongOrMissingPassphraseIsAProblemThatNeverShowsThePassphrase() throws Exception {
        KeyPair ec = TestCertificates.ec();
        write("mail.crt", TestCertificates.pem(ca.sign(ec, "mail.example.test")));
        write("mail.key", TestCertificates.encryptedPkcs8(ec.getPrivate(), "right".toCharArray()));
        write("wrong.txt", "not-the-passphrase\n");

        assertThat(problems("certificate: mail.crt\nprivateKey: mail.key\npassphrase: { file: wrong.txt }"))
                .singleElement().satisfies(p -> assertThat(p)
                        .endsWith("certificates.mail.privateKey: cannot decrypt the private key in mail.key with the "
                                + "passphrase from file wrong.txt (wrong passphrase?)")
                        .doesNotContain("not-the-passphrase"));
        assertThat(problems("certificate: mail.crt\nprivateKey: mail.key")).singleElement().satisfies(p -> assertThat(p)
                .contains("holds an encrypted private key, and the certificate names no passphrase"));
        assertThat(problems(
                "certificate: mail.crt\nprivateKey: mail.key\npassphrase: { env: GATEHOUSE_NO_SUCH_VARIABLE }"))
                .singleElement().satisfies(p -> assertThat(p)
                        .endsWith(
                                "certificates.mail.passphrase: environment variable GATEHOUSE_NO_SUCH_VARIABLE is not set"));
    }

    @Test
    void aPassphraseWrittenInTheRulesFileIsRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("rules.yaml"), "certificates:\n  mail:\n    certificate: mail.crt\n"
                + "    privateKey: mail.key\n    passphrase: hunter2\n" + RULE);
        RulesException e = org.junit.jupiter.api.Assertions.assertThrows(RulesException.class,
                () -> RulesLoader.load(file));
        assertThat(e.problems()).anySatisfy(p -> assertThat(p.toString())
                .contains("certificates.mail.passphrase: is written in the rules file (expected where to read it: "
                        + "{ env: VARIABLE } or { file: /path/to/file }"));
    }

    @Test
    void aPkcs12ExportLoadsWithItsPasswordAndAWrongPasswordIsAProblem() throws Exception {
        KeyPair rsa = TestCertificates.rsa();
        X509Certificate leaf = ca.sign(rsa, "mail.example.test");
        TestCertificates.pkcs12(dir.resolve("mail.pfx"), rsa.getPrivate(), List.of(leaf, ca.certificate()),
                "pfx-password".toCharArray());
        write("pfx.txt", "pfx-password");
        write("wrong.txt", "nope");

        assertThat(build("pkcs12: mail.pfx\npassword: { file: pfx.txt }").expiries()).containsKey("mail");
        assertThat(problems("pkcs12: mail.pfx\npassword: { file: wrong.txt }")).singleElement()
                .satisfies(p -> assertThat(p)
                        .endsWith(
                                "certificates.mail.pkcs12: cannot open mail.pfx with the password from file wrong.txt "
                                        + "(wrong password?)"));
    }

    @Test
    void aChainOutOfOrderIsAProblemThatSaysWhichCertificate() throws Exception {
        KeyPair ec = TestCertificates.ec();
        Ca other = Ca.create("Other CA");
        write("mail.crt", TestCertificates.pem(ca.sign(ec, "mail.example.test"), other.certificate()));
        write("mail.key", TestCertificates.pkcs8(ec.getPrivate()));

        assertThat(problems("certificate: mail.crt\nprivateKey: mail.key")).singleElement().satisfies(p -> assertThat(p)
                .contains("certificates.mail: the chain of the certificate in mail.crt is out of order: certificate 2 "
                        + "(CN=Other CA) did not sign certificate 1 (CN=mail.example.test, issued by CN=Test CA)"));
    }

    /** Was reported as "the private key does not match", which sent operators looking for another key. */
    @Test
    void aChainWithTheIntermediateFirstIsOutOfOrderNotAKeyMismatch() throws Exception {
        KeyPair interKeys = TestCertificates.ec();
        Ca intermediate = new Ca(interKeys, ca.sign(interKeys, "Intermediate CA"));
        KeyPair ec = TestCertificates.ec();
        write("mail.crt", TestCertificates.pem(intermediate.certificate(), intermediate.sign(ec, "mail.example.test")));
        write("mail.key", TestCertificates.pkcs8(ec.getPrivate()));

        assertThat(problems("certificate: mail.crt\nprivateKey: mail.key")).singleElement().satisfies(p -> assertThat(p)
                .contains("certificates.mail: the chain of the certificate in mail.crt is out of order: the private"
                        + " key belongs to certificate 2 (CN=mail.example.test), not to certificate 1 (CN=Intermediate"
                        + " CA)")
                .endsWith("(here: certificates 2, 1)")
                .doesNotContain("does not match"));
    }

    @Test
    void aMissingIntermediateIsAWarningThatNamesTheIssuerExpected() throws Exception {
        KeyPair interKeys = TestCertificates.ec();
        Ca intermediate = new Ca(interKeys, ca.sign(interKeys, "Intermediate CA"));
        KeyPair ec = TestCertificates.ec();
        write("mail.key", TestCertificates.pkcs8(ec.getPrivate()));
        X509Certificate leaf = intermediate.sign(ec, "mail.example.test");
        write("leaf-only.crt", TestCertificates.pem(leaf));
        write("complete.crt", TestCertificates.pem(leaf, intermediate.certificate(), ca.certificate()));

        assertThat(warnings(build("certificate: leaf-only.crt\nprivateKey: mail.key"), dir)).singleElement()
                .satisfies(w -> assertThat(w).contains("certificates.mail: the chain ends with certificate 1"
                        + " (CN=mail.example.test), issued by CN=Intermediate CA, which is neither in the file nor a"
                        + " CA this machine trusts").contains("expected: the certificate of CN=Intermediate CA after"
                                + " it"));
        assertThat(warnings(build("certificate: complete.crt\nprivateKey: mail.key"), dir)).isEmpty();
    }

    @Test
    void validityIsCheckedExpiredIsRefusedUnlessAllowedAndSoonIsWarned() throws Exception {
        Instant now = Instant.now();
        KeyPair ec = TestCertificates.ec();
        write("mail.key", TestCertificates.pkcs8(ec.getPrivate()));
        write("expired.crt",
                TestCertificates.pem(ca.sign(ec, List.of("mail.example.test"), now.minus(Duration.ofDays(400)),
                        now.minus(Duration.ofDays(35))), ca.certificate()));
        write("soon.crt",
                TestCertificates.pem(ca.sign(ec, List.of("mail.example.test"), now.minus(Duration.ofDays(300)),
                        now.plus(Duration.ofDays(10)).plus(Duration.ofHours(1))), ca.certificate()));
        write("future.crt", TestCertificates.pem(ca.sign(ec, List.of("mail.example.test"), now.plus(Duration.ofDays(2)),
                now.plus(Duration.ofDays(300)))));

        assertThat(problems("certificate: expired.crt\nprivateKey: mail.key")).singleElement()
                .satisfies(p -> assertThat(p)
                        .contains("certificates.mail: expired on ").contains("(renew it, or set allowExpired: true"));
        assertThat(warnings(build("certificate: expired.crt\nprivateKey: mail.key\nallowExpired: true"), dir))
                .singleElement().satisfies(w -> assertThat(w).contains("served anyway since allowExpired is true"));
        assertThat(warnings(build("certificate: soon.crt\nprivateKey: mail.key"), dir)).singleElement()
                .satisfies(
                        w -> assertThat(w).contains("certificates.mail: expires on ").endsWith("in 10 days: renew it"));
        assertThat(problems("certificate: future.crt\nprivateKey: mail.key")).singleElement()
                .satisfies(p -> assertThat(p)
                        .contains("certificates.mail: is not valid before "));
    }

    @Test
    void aPublicNameTheCertificateDoesNotCoverIsWarnedAWildcardCovers() throws Exception {
        KeyPair ec = TestCertificates.ec();
        write("mail.crt",
                TestCertificates.pem(ca.sign(ec, "mail.example.test", "*.corp.example.test"), ca.certificate()));
        write("mail.key", TestCertificates.pkcs8(ec.getPrivate()));
        String certificate = "certificate: mail.crt\nprivateKey: mail.key";

        assertThat(warnings(build(certificate, RULE + "    publicName: pop.example.test\n"), dir)).singleElement()
                .satisfies(
                        w -> assertThat(w).contains("rules.pop3s.publicName: pop.example.test is not among the names "
                                + "the certificate covers (mail.example.test, *.corp.example.test): clients connecting to "
                                + "pop.example.test will warn that the name does not match"));
        assertThat(build(certificate, RULE + "    publicName: imap.corp.example.test\n").warnings()).isEmpty();
        assertThat(build(certificate, RULE + "    publicName: mail.example.test\n").warnings()).isEmpty();
        assertThat(build(certificate, RULE + "    publicName: a.b.corp.example.test\n").warnings())
                .as("a wildcard covers one label only").hasSize(1);
    }

    @Test
    void weakCiphersAndSslVersionsAreRefusedInTheRulesFile() throws Exception {
        Path file = Files.writeString(dir.resolve("rules.yaml"), TestGatewayCertificates.SELF_SIGNED + RULE
                .replace("certificate: mail", "certificate: mail\n    protocols: [TLSv1.2, SSLv3]\n"
                        + "    ciphers: [TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_ECDHE_RSA_WITH_RC4_128_SHA, "
                        + "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]"));
        RulesException e = org.junit.jupiter.api.Assertions.assertThrows(RulesException.class,
                () -> RulesLoader.load(file));
        assertThat(e.problems()).extracting(Problem::toString).anySatisfy(p -> assertThat(p)
                .contains(
                        "rules[0].protocols[1]: \"SSLv3\" (expected TLSv1, TLSv1.1, TLSv1.2, TLSv1.3; SSL versions are "
                                + "never offered)"))
                .anySatisfy(p -> assertThat(p)
                        .contains("rules[0].ciphers[0]: \"TLS_RSA_WITH_3DES_EDE_CBC_SHA\" is under 128 "
                                + "bits or leaves data unprotected (3DES;"))
                .anySatisfy(
                        p -> assertThat(p).contains("rules[0].ciphers[1]: \"TLS_ECDHE_RSA_WITH_RC4_128_SHA\" is under "
                                + "128 bits or leaves data unprotected (RC4;"))
                .hasSize(3);
    }

    /** A self-signed "mail" certificate section, for tests about rules rather than material. */
    private static final class TestGatewayCertificates {
        static final String SELF_SIGNED = "certificates:\n  mail:\n    selfSigned: [mail.example.test]\n";
    }

    @Test
    void aPolicyTheEngineCannotServeIsAProblemAtTheRule() throws Exception {
        KeyPair ec = TestCertificates.ec();
        write("mail.crt", TestCertificates.pem(ca.sign(ec, "mail.example.test")));
        write("mail.key", TestCertificates.pkcs8(ec.getPrivate()));
        // A TLS 1.3-only cipher list with TLS 1.2 only: nothing the two could agree on.
        assertThatThrownBy(() -> build("certificate: mail.crt\nprivateKey: mail.key", RULE.replace("certificate: mail",
                "certificate: mail\n    protocols: [TLSv1.2]\n    ciphers: [TLS_FAKE_WITH_NOTHING_SHA256]")))
                .isInstanceOf(RulesException.class).hasMessageContaining("rules.pop3s: cannot build a TLS context");
    }

    /** Past the rules file's check (the file may grow after it): what the TLS layer reads is bounded too. */
    @Test
    void filesThatGrewPastTheirBoundSinceTheCheckAreRefusedWithoutBeingRead() throws Exception {
        Path huge = dir.resolve("huge.pem");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(300L * 1024 * 1024); // sparse
        }
        KeyPair ec = TestCertificates.ec();
        write("mail.crt", TestCertificates.pem(ca.sign(ec, "mail.example.test"), ca.certificate()));
        write("mail.key", TestCertificates.pkcs8(ec.getPrivate()));
        SourcePosition here = SourcePosition.unknown("test");
        String tooLarge = huge + " is 300 MiB, more than ";

        assertThatThrownBy(() -> CertificateMaterial.loadPem(new CertificateSource.PemFiles("mail",
                huge, dir.resolve("mail.key"), here)))
                .hasMessage(tooLarge + "a certificate or key file may be (1 MiB)");
        assertThatThrownBy(() -> CertificateMaterial.loadPem(new CertificateSource.PemFiles("mail",
                dir.resolve("mail.crt"), huge, here)))
                .hasMessage(tooLarge + "a certificate or key file may be (1 MiB)");
        assertThatThrownBy(() -> CertificateMaterial.loadPem(new CertificateSource.PemFiles("mail",
                dir.resolve("mail.crt"), dir.resolve("mail.key"),
                Optional.of(new Secret.File(huge)), false, false, here)))
                .hasMessage(tooLarge + "a passphrase file may be (4 KiB)");
        assertThatThrownBy(() -> CertificateMaterial.loadPkcs12(new CertificateSource.Pkcs12("mail",
                huge, Optional.empty(), false, false, here)))
                .hasMessage(tooLarge + "a PKCS#12 file may be (1 MiB)");
    }
}
