package org.gatehouse.rules.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.RulesException;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code certificates.NAME.acme}: what it reads, and each mistake at its file:line:column. */
class AcmeSectionTest {

    @TempDir
    Path dir;

    private static final String RULE = """
            rules:
              - name: pop3s
                listen: ["127.0.0.1:10995"]
                protocol: pop3
                certificate: public
                backend: ["127.0.0.1:110"]
            """;

    private Path write(String certificates) throws Exception {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, certificates + RULE);
        return file;
    }

    private List<String> problems(String certificates) throws Exception {
        Path file = write(certificates);
        RulesException e = Assertions.assertThrows(RulesException.class, () -> RulesLoader.load(file));
        return e.problems().stream().map(p -> p.toString().replace(file.toString(), "rules.yaml")).toList();
    }

    @Test
    void readsEverySetting() throws Exception {
        Files.writeString(dir.resolve("ca.pem"), "");
        CertificateSource source = RulesLoader.load(write("""
                certificates:
                  public:
                    acme:
                      directory: https://acme-v02.api.letsencrypt.org/directory
                      contact: ["mailto:postmaster@example.com"]
                      names: [mail.example.com, imap.example.com]
                      keyType: rsa-2048
                      http01: "0.0.0.0:80"
                      httpRedirect: https://www.example.com
                      eab: { keyId: kid-1, hmacKey: { env: ACME_HMAC } }
                      caCertificate: ca.pem
                """)).certificates().get("public");
        assertThat(source).isInstanceOf(CertificateSource.Acme.class);
        CertificateSource.Acme acme = (CertificateSource.Acme) source;
        assertThat(acme.directory().toString()).isEqualTo("https://acme-v02.api.letsencrypt.org/directory");
        assertThat(acme.contact()).containsExactly("mailto:postmaster@example.com");
        assertThat(acme.names()).containsExactly("mail.example.com", "imap.example.com");
        assertThat(acme.keyType()).isEqualTo(CertificateSource.Acme.KeyType.RSA_2048);
        assertThat(acme.http01()).contains(HostPort.parse("0.0.0.0:80", false));
        assertThat(acme.httpRedirect()).contains("https://www.example.com");
        assertThat(acme.eab().orElseThrow().keyId()).isEqualTo("kid-1");
        assertThat(acme.caCertificate()).contains(dir.resolve("ca.pem"));
    }

    @Test
    void tlsAlpn01AloneIsAChallenge() throws Exception {
        CertificateSource.Acme acme = (CertificateSource.Acme) RulesLoader.load(write("""
                certificates:
                  public:
                    acme:
                      directory: https://acme-v02.api.letsencrypt.org/directory
                      names: [mail.example.com]
                      tlsAlpn01: true
                """)).certificates().get("public");
        assertThat(acme.tlsAlpn01()).isTrue();
        assertThat(acme.http01()).isEmpty();
    }

    @Test
    void mistakesAreNamedWhereTheyAre() throws Exception {
        assertThat(problems("""
                certificates:
                  public:
                    acme:
                      directory: http://ca.example/dir
                      contact: [postmaster@example.com]
                      names: [192.0.2.7, "*.example.com"]
                      keyType: dsa
                      http01: "0.0.0.0:80"
                      tlsAlpn01: true
                """)).containsExactly(
                "rules.yaml:4:18: certificates.public.acme.directory: \"http://ca.example/dir\" is not an https URL "
                        + "(expected: https://acme-v02.api.letsencrypt.org/directory)",
                "rules.yaml:5:17: certificates.public.acme.contact[0]: \"postmaster@example.com\" is not a mailto: "
                        + "address (expected: mailto:postmaster@example.com)",
                "rules.yaml:6:15: certificates.public.acme.names[0]: \"192.0.2.7\" is not a public DNS name "
                        + "(expected: mail.example.com; an ACME CA signs names, not addresses)",
                "rules.yaml:6:26: certificates.public.acme.names[1]: \"*.example.com\" is a wildcard, which needs "
                        + "the dns-01 challenge (expected one name per host)",
                "rules.yaml:7:16: certificates.public.acme.keyType: \"dsa\" (expected ec-p256 or rsa-2048)",
                // The loader's usual follow-on for a certificate it had to leave out.
                "rules.yaml:14:18: rules[0].certificate: unknown certificate \"public\" (expected one defined under "
                        + "certificates: there are none)");
    }

    @Test
    void aCertificateWithoutAChallengeOrDirectoryIsRefused() throws Exception {
        assertThat(problems("""
                certificates:
                  public:
                    acme:
                      names: [mail.example.com]
                """)).containsExactly(
                "rules.yaml:4:7: certificates.public.acme.directory: is required",
                "rules.yaml:4:7: certificates.public.acme: has no challenge the gateway can answer (expected http01: "
                        + "\"0.0.0.0:80\", a listener of the gateway's own for the CA's http-01 requests, or tlsAlpn01: "
                        + "true, answered on the gateway's TLS listeners)",
                "rules.yaml:9:18: rules[0].certificate: unknown certificate \"public\" (expected one defined under "
                        + "certificates: there are none)");
    }
}
