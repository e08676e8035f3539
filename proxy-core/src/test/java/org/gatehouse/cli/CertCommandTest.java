package org.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.gatehouse.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gatehouse cert}: the request an administrator sends to a CA, a self-signed certificate, and {@code show}. */
class CertCommandTest {

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        var cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    @Test
    void requestWritesAPrivateKeyOnlyItsOwnerCanReadAndACsrWithEveryName() throws Exception {
        assertThat(run("cert", "request", "--name", "mail.example.com", "--san", "imap.example.com,192.0.2.10",
                "--out", dir.toString())).as(err.toString()).isZero();

        Path key = dir.resolve("mail.example.com.key");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        PKCS10CertificationRequest csr;
        try (PEMParser parser = new PEMParser(Files.newBufferedReader(dir.resolve("mail.example.com.csr")))) {
            csr = (PKCS10CertificationRequest) parser.readObject();
        }
        assertThat(csr.getSubject().toString()).isEqualTo("CN=mail.example.com");
        Extensions extensions = Extensions
                .getInstance(csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)[0]
                        .getAttrValues().getObjectAt(0));
        assertThat(GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName).toString())
                .contains("mail.example.com", "imap.example.com", "#c000020a");
        assertThat(out.toString()).contains("send this to the CA");

        assertThat(run("cert", "request", "--name", "mail.example.com", "--out", dir.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("a key is never overwritten");
    }

    @Test
    void selfSignedThenShowDescribesTheCertificateAndChecksTheKey() throws Exception {
        assertThat(run("cert", "self-signed", "--name", "legacy.example.com", "--key", "rsa", "--days", "30", "--out",
                dir.toString())).as(err.toString()).isZero();
        Path cert = dir.resolve("legacy.example.com.crt");

        assertThat(
                run("cert", "show", cert.toString(), "--private-key", dir.resolve("legacy.example.com.key").toString()))
                .isZero();
        assertThat(out.toString()).contains("subject:  O=Gatehouse self-signed,CN=legacy.example.com",
                "names:    legacy.example.com", "key:      RSA 3072 bits", "days left)", "matches the certificate");

        var other = TestCertificates.ec();
        Files.writeString(dir.resolve("other.key"), TestCertificates.pkcs8(other.getPrivate()));
        assertThat(run("cert", "show", cert.toString(), "--private-key", dir.resolve("other.key").toString()))
                .as("a key that does not match fails the command").isEqualTo(CertCommand.EXIT_FAILED);
        assertThat(out.toString()).contains("DOES NOT match the certificate");
        assertThat(err.toString()).contains("problem: the private key does not match the certificate");
    }

    @Test
    void showReadsAWindowsPfxWithItsPassword() throws Exception {
        TestCertificates.Ca ca = TestCertificates.Ca.create("Corp CA");
        var keys = TestCertificates.rsa();
        TestCertificates.pkcs12(dir.resolve("mail.pfx"), keys.getPrivate(), List.of(ca.sign(keys, "mail.corp.example"),
                ca.certificate()), "pfx".toCharArray());
        Files.writeString(dir.resolve("pfx.txt"), "pfx\n");

        assertThat(run("cert", "show", dir.resolve("mail.pfx").toString(), "--password-file", dir.resolve("pfx.txt")
                .toString())).as(err.toString()).isZero();
        assertThat(out.toString()).contains("subject:  CN=mail.corp.example", "chain 1", "subject:  CN=Corp CA",
                "private key in " + dir.resolve("mail.pfx") + ": matches the certificate");

        Files.writeString(dir.resolve("wrong.txt"), "not it\n");
        assertThat(run("cert", "show", dir.resolve("mail.pfx").toString(), "--password-file", dir.resolve("wrong.txt")
                .toString())).isEqualTo(CertCommand.EXIT_FAILED);
        assertThat(err.toString()).contains("with the password from file " + dir.resolve("wrong.txt")
                + " (wrong password?)").doesNotContain("nowhere");
    }
}
