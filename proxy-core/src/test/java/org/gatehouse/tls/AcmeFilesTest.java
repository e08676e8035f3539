package org.gatehouse.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state folder's ACME files: the stand-in before the first issue, then each issued pair, switched in one step. */
class AcmeFilesTest {

    @TempDir
    Path stateDir;

    private final CertificateSource.Acme acme = new CertificateSource.Acme("public",
            URI.create("https://ca.example/dir"), List.of(), List.of("mail.example.com"),
            CertificateSource.Acme.KeyType.EC_P256, Optional.of(HostPort.parse("127.0.0.1:80", false)), false,
            Optional.empty(), Optional.empty(), Optional.empty(), SourcePosition.unknown("test"));

    @Test
    void beforeTheFirstIssueATemporarySelfSignedCertificateForTheNamesIsServed() throws Exception {
        AcmeFiles.Loaded loaded = AcmeFiles.load(stateDir, acme);
        assertThat(loaded.temporary()).isTrue();
        X509Certificate leaf = loaded.material().leaf();
        assertThat(leaf.getSubjectX500Principal()).isEqualTo(leaf.getIssuerX500Principal());
        assertThat(SelfSignedCertificates.subjectNames(leaf)).containsExactly("mail.example.com");
    }

    @Test
    void eachIssuedPairReplacesTheLastAndOnlyTheLastTwoAreKept() throws Exception {
        TestCertificates.Ca ca = TestCertificates.Ca.create("ACME test CA");
        X509Certificate[] serials = new X509Certificate[3];
        for (int i = 0; i < 3; i++) {
            KeyPair keys = TestCertificates.ec();
            serials[i] = ca.sign(keys, "mail.example.com");
            AcmeFiles.write(stateDir, "public", keys.getPrivate(), List.of(serials[i], ca.certificate()));
            AcmeFiles.Loaded loaded = AcmeFiles.load(stateDir, acme);
            assertThat(loaded.temporary()).isFalse();
            assertThat(loaded.material().leaf()).isEqualTo(serials[i]);
            assertThat(loaded.material().chain()).hasSize(2);
        }
        try (var folders = Files.list(AcmeFiles.folder(stateDir, "public"))) {
            assertThat(folders.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("issued-")))
                    .containsExactlyInAnyOrder("issued-" + serials[1].getSerialNumber().toString(16),
                            "issued-" + serials[2].getSerialNumber().toString(16));
        }
    }
}
