package org.gatehouse.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Keys, certificates and their files for tests, generated with BouncyCastle on the spot: a CA, server and client
 * certificates it signs, and every key and container format the gateway reads. No private key is checked in.
 */
public final class TestCertificates {

    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private TestCertificates() {
    }

    public static KeyPair ec() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    public static KeyPair rsa() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return g.generateKeyPair();
    }

    /** A certificate authority: its key and self-signed certificate. */
    public record Ca(KeyPair keys, X509Certificate certificate) {
        public static Ca create(String name) throws Exception {
            KeyPair keys = ec();
            Instant now = Instant.now();
            return new Ca(keys, issue(new X500Name("CN=" + name), keys, new X500Name("CN=" + name), keys.getPrivate(),
                    List.of(), true, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(3650))));
        }

        /** A certificate for {@code names} (the first is the CN), valid from {@code notBefore} to {@code notAfter}. */
        public X509Certificate sign(KeyPair subject, List<String> names, Instant notBefore, Instant notAfter)
                throws Exception {
            return issue(new X500Name("CN=" + names.get(0)), subject, new X500Name(certificate.getSubjectX500Principal()
                    .getName()), keys.getPrivate(), names, false, notBefore, notAfter);
        }

        /** Valid from yesterday for a year, naming {@code ocspUrl} as its OCSP responder. */
        public X509Certificate signWithOcsp(KeyPair subject, String ocspUrl, String name) throws Exception {
            Instant now = Instant.now();
            return issue(new X500Name("CN=" + name), subject,
                    new X500Name(certificate.getSubjectX500Principal().getName()),
                    keys.getPrivate(), List.of(name), false, now.minus(Duration.ofDays(1)),
                    now.plus(Duration.ofDays(365)),
                    ocspUrl);
        }

        /** A signed "good" answer to an OCSP request about a certificate this CA issued, valid for an hour. */
        public byte[] ocspResponse(byte[] request) throws Exception {
            org.bouncycastle.cert.ocsp.OCSPReq req = new org.bouncycastle.cert.ocsp.OCSPReq(request);
            org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder builder = new org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder(
                    new org.bouncycastle.cert.ocsp.RespID(
                            new X500Name(certificate.getSubjectX500Principal().getName())));
            Date now = new Date();
            for (org.bouncycastle.cert.ocsp.Req r : req.getRequestList()) {
                builder.addResponse(r.getCertID(), org.bouncycastle.cert.ocsp.CertificateStatus.GOOD, now,
                        new Date(now.getTime() + 3_600_000L));
            }
            org.bouncycastle.cert.ocsp.BasicOCSPResp basic = builder.build(
                    new JcaContentSignerBuilder("SHA256withECDSA")
                            .build(keys.getPrivate()),
                    new org.bouncycastle.cert.X509CertificateHolder[]{
                            new org.bouncycastle.cert.jcajce.JcaX509CertificateHolder(certificate)},
                    now);
            return new org.bouncycastle.cert.ocsp.OCSPRespBuilder()
                    .build(org.bouncycastle.cert.ocsp.OCSPRespBuilder.SUCCESSFUL,
                            basic)
                    .getEncoded();
        }

        /** Valid from yesterday for a year. */
        public X509Certificate sign(KeyPair subject, String... names) throws Exception {
            Instant now = Instant.now();
            return sign(subject, List.of(names), now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(365)));
        }
    }

    private static X509Certificate issue(X500Name subject, KeyPair subjectKeys, X500Name issuer, PrivateKey issuerKey,
            List<String> names, boolean ca, Instant notBefore, Instant notAfter) throws Exception {
        return issue(subject, subjectKeys, issuer, issuerKey, names, ca, notBefore, notAfter, null);
    }

    private static X509Certificate issue(X500Name subject, KeyPair subjectKeys, X500Name issuer, PrivateKey issuerKey,
            List<String> names, boolean ca, Instant notBefore, Instant notAfter, String ocspUrl) throws Exception {
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer,
                new BigInteger(64, new SecureRandom()),
                Date.from(notBefore), Date.from(notAfter), subject, subjectKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(ca))
                .addExtension(Extension.keyUsage, true, new KeyUsage(ca
                        ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                        : KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        if (!names.isEmpty()) {
            List<GeneralName> sans = new ArrayList<>();
            for (String n : names) {
                sans.add(new GeneralName(GeneralName.dNSName, n));
            }
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(sans.toArray(GeneralName[]::new)));
        }
        if (ocspUrl != null) {
            builder.addExtension(Extension.authorityInfoAccess, false,
                    new org.bouncycastle.asn1.x509.AuthorityInformationAccess(
                            org.bouncycastle.asn1.x509.AccessDescription.id_ad_ocsp,
                            new GeneralName(GeneralName.uniformResourceIdentifier, ocspUrl)));
        }
        String algorithm = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder(algorithm)
                .build(issuerKey)));
    }

    /** PEM text of certificates, in the order given; of a key as PKCS#1 (RSA) or SEC1 (EC); of generators. */
    public static String pem(Object... objects) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            for (Object o : objects) {
                writer.writeObject(o);
            }
        }
        return out.toString();
    }

    /** An unencrypted PKCS#8 key ({@code BEGIN PRIVATE KEY}). */
    public static String pkcs8(PrivateKey key) throws Exception {
        return pem(new JcaPKCS8Generator(key, null));
    }

    /** An encrypted PKCS#8 key ({@code BEGIN ENCRYPTED PRIVATE KEY}), AES-256 with a PBKDF2-derived key. */
    public static String encryptedPkcs8(PrivateKey key, char[] passphrase) throws Exception {
        return pem(new JcaPKCS8Generator(key, new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                .setProvider(BC).setPassword(passphrase).build()));
    }

    /** A PKCS#12 file with the key and its chain, as Windows exports a .pfx. */
    public static void pkcs12(Path file, PrivateKey key, List<X509Certificate> chain, char[] password)
            throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("mail", key, password, chain.toArray(Certificate[]::new));
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, password);
        }
    }
}
