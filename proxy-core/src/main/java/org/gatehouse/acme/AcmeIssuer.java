package org.gatehouse.acme;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.gatehouse.rules.CertificateSource.Acme;
import org.gatehouse.rules.load.BoundedFile;
import org.gatehouse.tls.AcmeFiles;
import org.gatehouse.tls.SelfSignedCertificates;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Challenge;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.challenge.TlsAlpn01Challenge;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.provider.GenericAcmeProvider;

/**
 * One certificate order with acme4j, start to end, on the calling (ACME) thread: the account (its key made once and
 * kept in the state folder, with external account binding if the CA asks for it), the order, each name's challenge
 * (tls-alpn-01 when asked for and offered, else http-01) answered through {@link ChallengeResponses}, a new key for
 * the certificate, and the issued chain written
 * to the state folder. Nothing is written unless the CA issued.
 */
final class AcmeIssuer {

    /** How long the CA may take to validate a challenge, or to issue. */
    static final Duration WAIT = Duration.ofSeconds(90);

    private final Path stateDir;
    private final ChallengeResponses responses;

    AcmeIssuer(Path stateDir, ChallengeResponses responses) {
        this.stateDir = requireNonNull(stateDir, "stateDir");
        this.responses = requireNonNull(responses, "responses");
    }

    /** Orders, answers and writes; the issued chain (leaf first). */
    List<X509Certificate> issue(Acme acme) throws AcmeException, IOException, InterruptedException {
        Session session = new Session(acme.directory(), provider(acme));
        session.networkSettings().setTimeout(Duration.ofSeconds(30));
        AccountBuilder builder = new AccountBuilder().agreeToTermsOfService().useKeyPair(accountKey(acme));
        acme.contact().forEach(builder::addContact);
        if (acme.eab().isPresent()) {
            builder.withKeyIdentifier(acme.eab().get().keyId(),
                    new String(AcmeFiles.secret(acme.eab().get().hmacKey())).trim());
        }
        Account account = builder.create(session);
        Order order = account.newOrder().domains(acme.names()).create();
        for (Authorization auth : order.getAuthorizations()) {
            authorize(auth, acme);
        }
        KeyPair domainKey = domainKey(acme.keyType());
        order.waitUntilReady(WAIT);
        order.execute(csr(acme.names(), domainKey));
        Status status = order.waitForCompletion(WAIT);
        if (status != Status.VALID) {
            throw new AcmeException("the order ended " + status + order.getError().map(p -> ": " + p).orElse(""));
        }
        List<X509Certificate> chain = order.getCertificate().getCertificateChain();
        AcmeFiles.write(stateDir, acme.name(), domainKey.getPrivate(), chain);
        return chain;
    }

    /** A new key for each certificate, from the JDK's provider (the one the TLS listeners load keys for). */
    private static KeyPair domainKey(Acme.KeyType type) throws IOException {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(type == Acme.KeyType.RSA_2048 ? "RSA" : "EC");
            if (type == Acme.KeyType.RSA_2048) {
                generator.initialize(2048);
            } else {
                generator.initialize(new ECGenParameterSpec("secp256r1"));
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make the certificate's key: " + e.getMessage(), e);
        }
    }

    private void authorize(Authorization auth, Acme acme) throws AcmeException, InterruptedException {
        if (auth.getStatus() == Status.VALID) {
            return; // the CA remembers an earlier validation
        }
        String name = auth.getIdentifier().getValue();
        Optional<TlsAlpn01Challenge> alpn = acme.tlsAlpn01()
                ? auth.findChallenge(TlsAlpn01Challenge.class)
                : Optional.empty();
        if (alpn.isPresent() || acme.http01().isEmpty()) {
            TlsAlpn01Challenge challenge = alpn.orElseThrow(
                    () -> new AcmeException("the CA offers no tls-alpn-01 challenge for " + name));
            answerTlsAlpn01(challenge, name);
            try {
                await(challenge, "tls-alpn-01", name);
            } finally {
                responses.removeTlsAlpn01(name);
            }
            return;
        }
        Http01Challenge challenge = auth.findChallenge(Http01Challenge.class)
                .orElseThrow(() -> new AcmeException("the CA offers no http-01 challenge for " + name));
        responses.putHttp01(challenge.getToken(), challenge.getAuthorization());
        try {
            await(challenge, "http-01", name);
        } finally {
            responses.removeHttp01(challenge.getToken());
        }
    }

    /** The RFC 8737 certificate on a fresh key, served to the CA while the challenge is pending. */
    private void answerTlsAlpn01(TlsAlpn01Challenge challenge, String name)
            throws AcmeException {
        try {
            responses.putTlsAlpn01(name, challenge.getAcmeValidation());
        } catch (GeneralSecurityException | IllegalStateException e) {
            throw new AcmeException("cannot answer the tls-alpn-01 challenge for " + name + ": " + e.getMessage());
        }
    }

    private static void await(Challenge challenge, String type, String name)
            throws AcmeException, InterruptedException {
        challenge.trigger();
        Status status = challenge.waitForCompletion(WAIT);
        if (status != Status.VALID) {
            throw new AcmeException("the " + type + " challenge for " + name + " ended " + status
                    + challenge.getError().map(p -> ": " + p).orElse(""));
        }
    }

    /**
     * The account key (EC P-384), made on first use and kept owner-only beside the certificate as PKCS#8 and its
     * public key; the JDK's provider reads and writes both, so that no provider is registered for the whole process.
     */
    private KeyPair accountKey(Acme acme) throws IOException {
        Path folder = AcmeFiles.folder(stateDir, acme.name());
        Path privateFile = folder.resolve("account.key");
        Path publicFile = folder.resolve("account.pub");
        try {
            KeyFactory ec = KeyFactory.getInstance("EC");
            if (Files.isReadable(privateFile) && Files.isReadable(publicFile)) {
                return new KeyPair(ec.generatePublic(new X509EncodedKeySpec(der(publicFile))),
                        ec.generatePrivate(new PKCS8EncodedKeySpec(der(privateFile))));
            }
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp384r1"));
            KeyPair pair = generator.generateKeyPair();
            Files.createDirectories(folder);
            SelfSignedCertificates.writeAtomically(publicFile, SelfSignedCertificates.toPem(pair.getPublic()), false);
            SelfSignedCertificates.writeAtomically(privateFile,
                    SelfSignedCertificates.toPem(new JcaPKCS8Generator(pair.getPrivate(), null)), true);
            return pair;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException("cannot use the ACME account key in " + folder + ": " + e.getMessage(), e);
        }
    }

    private static byte[] der(Path pem) throws IOException {
        String text = new String(BoundedFile.read(pem, BoundedFile.MAX_CERTIFICATE_FILE, "an ACME account key file"),
                StandardCharsets.US_ASCII);
        return Base64.getMimeDecoder().decode(text.replaceAll("-----[A-Z ]+-----", "").trim());
    }

    /** The certificate signing request: the first name as CN, every name as a subjectAltName. */
    private static byte[] csr(List<String> names, KeyPair key) throws IOException {
        try {
            ExtensionsGenerator extensions = new ExtensionsGenerator();
            extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.stream()
                    .map(n -> new GeneralName(GeneralName.dNSName, n)).toArray(GeneralName[]::new)));
            PKCS10CertificationRequestBuilder builder = new JcaPKCS10CertificationRequestBuilder(
                    new X500Name("CN=" + names.get(0)), key.getPublic())
                    .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
            String algorithm = key.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            return builder.build(new JcaContentSignerBuilder(algorithm).build(key.getPrivate())).getEncoded();
        } catch (OperatorCreationException e) {
            throw new IOException("cannot sign the certificate request: " + e.getMessage(), e);
        }
    }

    /** The CA's HTTPS trusted as the JDK trusts it, or (caCertificate) by that CA alone, for a private CA. */
    private static GenericAcmeProvider provider(Acme acme) throws IOException {
        if (acme.caCertificate().isEmpty()) {
            return new GenericAcmeProvider();
        }
        SSLContext tls = trusting(acme.caCertificate().get());
        return new GenericAcmeProvider() {
            @Override
            public HttpClient createHttpClient(NetworkSettings settings) {
                return HttpClient.newBuilder().sslContext(tls).connectTimeout(settings.getTimeout())
                        .followRedirects(HttpClient.Redirect.NORMAL).build();
            }
        };
    }

    private static SSLContext trusting(Path caFile) throws IOException {
        try (var in = new ByteArrayInputStream(BoundedFile.read(caFile, BoundedFile.MAX_CERTIFICATE_FILE,
                "a CA certificate file"))) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (var cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca" + i++, cert);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read the CA certificate " + caFile + ": " + e.getMessage(), e);
        }
    }
}
