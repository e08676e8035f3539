package org.gatehouse.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.gatehouse.rules.match.IpLiteral;

/**
 * Self-signed certificates for the {@code selfSigned:} form: an ECDSA P-256 key and a certificate for the listed names,
 * written to the state folder on first use and reused while they still fit (same names, more than 30 days left).
 */
public final class SelfSignedCertificates {

    static final Duration VALIDITY = Duration.ofDays(365);
    static final Duration RENEW_BEFORE = Duration.ofDays(30);

    private SelfSignedCertificates() {
    }

    /** Where the certificate and key for {@code name} are kept. */
    static Path certificateFile(Path stateDir, String name) {
        return stateDir.resolve("certificates").resolve(name + ".crt");
    }

    static Path keyFile(Path stateDir, String name) {
        return stateDir.resolve("certificates").resolve(name + ".key");
    }

    /** Whether the files on disk can be used as they are for these names. */
    static boolean usable(Path stateDir, String name, List<String> names) {
        Path cert = certificateFile(stateDir, name);
        Path key = keyFile(stateDir, name);
        if (!Files.isReadable(cert) || !Files.isReadable(key)) {
            return false;
        }
        try {
            X509Certificate leaf = PemFiles.readChain(cert).get(0);
            return leaf.getNotAfter().toInstant().isAfter(Instant.now().plus(RENEW_BEFORE))
                    && subjectNames(leaf).equals(normalized(names))
                    && PemFiles.matches(PemFiles.readKey(key), leaf.getPublicKey());
        } catch (PemFiles.PemException e) {
            return false;
        }
    }

    /** Generates a key and certificate for {@code names} and writes them, the key readable by its owner only. */
    static void generate(Path stateDir, String name, List<String> names) throws IOException, GeneralSecurityException {
        KeyPair pair = newEcKeyPair();
        X509Certificate certificate = selfSign(pair, names, Instant.now());
        Path cert = certificateFile(stateDir, name);
        Path key = keyFile(stateDir, name);
        Files.createDirectories(cert.getParent());
        writeAtomically(key, toPem(new JcaPKCS8Generator(pair.getPrivate(), null)), true);
        writeAtomically(cert, toPem(certificate), false);
    }

    static KeyPair newEcKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return generator.generateKeyPair();
    }

    /** A self-signed server certificate for {@code names} (DNS names and IP addresses), valid from {@code notBefore}. */
    public static X509Certificate selfSign(KeyPair pair, List<String> names, Instant notBefore)
            throws GeneralSecurityException {
        return selfSign(pair, names, notBefore, VALIDITY);
    }

    /** As {@link #selfSign(KeyPair, List, Instant)}, valid for {@code validity}. */
    static X509Certificate selfSign(KeyPair pair, List<String> names, Instant notBefore, Duration validity)
            throws GeneralSecurityException {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, names.get(0))
                .addRDN(BCStyle.O, "Gatehouse self-signed")
                .build();
        List<GeneralName> sans = new ArrayList<>();
        for (String n : names) {
            sans.add(IpLiteral.parse(n).isPresent()
                    ? new GeneralName(GeneralName.iPAddress, n)
                    : new GeneralName(GeneralName.dNSName, n));
        }
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(127, new SecureRandom()).add(BigInteger.ONE),
                    Date.from(notBefore.minus(Duration.ofMinutes(5))), Date.from(notBefore.plus(validity)), subject,
                    pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(sans.toArray(GeneralName[]::new)));
            String algorithm = pair.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(algorithm).build(pair.getPrivate())));
        } catch (IOException | OperatorCreationException e) {
            throw new GeneralSecurityException("cannot build a self-signed certificate: " + e.getMessage(), e);
        }
    }

    static Set<String> subjectNames(X509Certificate certificate) {
        Set<String> out = new HashSet<>();
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    Object value = san.get(1);
                    if (value instanceof String s) {
                        out.add(s);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return Set.of();
        }
        return normalized(out);
    }

    /** Names compared as the certificate holds them: IP addresses in one canonical text form, DNS names lower-case. */
    private static Set<String> normalized(Collection<String> names) {
        Set<String> out = new HashSet<>();
        for (String n : names) {
            out.add(IpLiteral.toInetAddress(n).map(InetAddress::getHostAddress)
                    .orElse(n.toLowerCase(Locale.ROOT)));
        }
        return out;
    }

    public static String toPem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }

    /** Writes {@code content} to {@code target} through a temporary file moved over it; owner-only if secret. */
    public static void writeAtomically(Path target, String content, boolean secret) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp");
        try {
            if (secret) {
                try {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException e) {
                    // Not a POSIX file system: the platform's defaults apply.
                }
            }
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
                w.write(content);
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
