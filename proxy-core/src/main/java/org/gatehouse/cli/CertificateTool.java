package org.gatehouse.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.gatehouse.rules.match.IpLiteral;
import org.gatehouse.tls.CertificateFiles;

/**
 * What {@code gatehouse cert} does: make a key and a certificate signing request to send to a CA, make a self-signed
 * certificate, and describe a certificate file. Keys are written readable by their owner only (0600), and never over
 * an existing file.
 */
public final class CertificateTool {

    private CertificateTool() {
    }

    /** The files a command wrote. */
    public record Written(Path key, Path other) {
    }

    /** A new key ({@code ec}: P-256, {@code rsa}: 3072 bits) and a PKCS#10 request for {@code names} (first: CN). */
    public static Written request(List<String> names, String keyType, Path dir)
            throws IOException, GeneralSecurityException {
        KeyPair keys = newKeys(keyType);
        PKCS10CertificationRequest csr;
        try {
            ExtensionsGenerator extensions = new ExtensionsGenerator();
            extensions.addExtension(Extension.subjectAlternativeName, false, sans(names));
            csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + names.get(0)), keys.getPublic())
                    .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
                    .build(new JcaContentSignerBuilder(signatureAlgorithm(keys.getPrivate())).build(keys.getPrivate()));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign the request: " + e.getMessage(), e);
        }
        Path key = writeKey(dir, names.get(0), keys.getPrivate());
        Path request = writeNew(dir.resolve(fileName(names.get(0)) + ".csr"), CertificateFiles.toPem(csr));
        return new Written(key, request);
    }

    /** A new key and a certificate for {@code names} signed by that key, valid for {@code days}. */
    public static Written selfSigned(List<String> names, String keyType, int days, Path dir)
            throws IOException, GeneralSecurityException {
        KeyPair keys = newKeys(keyType);
        X509Certificate certificate = CertificateFiles.selfSign(keys, names, Instant.now(), Duration.ofDays(days));
        Path key = writeKey(dir, names.get(0), keys.getPrivate());
        Path cert = writeNew(dir.resolve(fileName(names.get(0)) + ".crt"), CertificateFiles.toPem(certificate));
        return new Written(key, cert);
    }

    /** What {@code cert show} prints, and the problems that make it fail (a key that does not match, say). */
    public record Shown(String text, List<String> problems) {
    }

    /**
     * A description of every certificate in a PEM file (or, with a password, a PKCS#12 file): subject, names, issuer,
     * validity, key; and, with {@code keyFile}, whether that key belongs to the first certificate.
     */
    public static Shown show(Path file, char[] pkcs12Password, Optional<Path> passwordFile, Path keyFile)
            throws IOException {
        CertificateFiles.Contents contents = isPkcs12(file)
                ? CertificateFiles.readPkcs12(file, pkcs12Password == null ? new char[0] : pkcs12Password,
                        passwordFile)
                : CertificateFiles.readPem(file);
        List<X509Certificate> chain = contents.chain();
        StringBuilder out = new StringBuilder();
        Instant now = Instant.now();
        for (int i = 0; i < chain.size(); i++) {
            describe(out.append(i == 0 ? "certificate" : "chain " + i).append('\n'), chain.get(i), now);
        }
        List<String> problems = new ArrayList<>();
        PrivateKey key = keyFile != null ? CertificateFiles.readKey(keyFile) : contents.key().orElse(null);
        if (key != null) {
            Optional<String> problem = CertificateFiles.chainProblem(key, chain);
            boolean matches = CertificateFiles.matches(key, chain.get(0).getPublicKey());
            out.append("private key ").append(keyFile != null ? keyFile : "in " + file).append(": ")
                    .append(matches ? "matches the certificate" : "DOES NOT match the certificate").append('\n');
            problem.ifPresent(problems::add);
        }
        CertificateFiles.missingIssuer(chain).ifPresent(w -> out.append("warning: ").append(w).append('\n'));
        return new Shown(out.toString(), problems);
    }

    private static void describe(StringBuilder out, X509Certificate c, Instant now) {
        long days = Duration.between(now, c.getNotAfter().toInstant()).toDays();
        out.append("  subject:  ").append(c.getSubjectX500Principal().getName()).append('\n')
                .append("  names:    ").append(String.join(", ", CertificateFiles.names(c))).append('\n')
                .append("  issuer:   ").append(c.getIssuerX500Principal().getName()).append('\n')
                .append("  valid:    ").append(c.getNotBefore().toInstant()).append(" to ")
                .append(c.getNotAfter().toInstant()).append(now.isAfter(c.getNotAfter().toInstant())
                        ? " (EXPIRED)"
                        : now.isBefore(c.getNotBefore().toInstant())
                                ? " (NOT YET VALID)"
                                : " (" + days + " days left)")
                .append('\n')
                .append("  key:      ").append(describeKey(c)).append('\n');
    }

    private static boolean isPkcs12(Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".pfx") || name.endsWith(".p12")) {
            return true;
        }
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x30; // DER, not PEM text (one byte read; the file itself is read within its bound)
        }
    }

    private static String describeKey(X509Certificate c) {
        if (c.getPublicKey() instanceof RSAKey rsa) {
            return "RSA " + rsa.getModulus().bitLength() + " bits";
        }
        if (c.getPublicKey() instanceof ECKey ec) {
            return "EC " + ec.getParams().getCurve().getField().getFieldSize() + " bits";
        }
        return c.getPublicKey().getAlgorithm();
    }

    private static KeyPair newKeys(String keyType) throws GeneralSecurityException {
        if ("rsa".equalsIgnoreCase(keyType)) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(3072);
            return g.generateKeyPair();
        }
        if ("ec".equalsIgnoreCase(keyType)) {
            return CertificateFiles.newEcKeyPair();
        }
        throw new GeneralSecurityException("key type \"" + keyType + "\" (expected ec or rsa)");
    }

    private static String signatureAlgorithm(PrivateKey key) {
        return key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    }

    private static GeneralNames sans(List<String> names) {
        List<GeneralName> out = new ArrayList<>();
        for (String n : names) {
            out.add(IpLiteral.parse(n).isPresent()
                    ? new GeneralName(GeneralName.iPAddress, n)
                    : new GeneralName(GeneralName.dNSName, n));
        }
        return new GeneralNames(out.toArray(GeneralName[]::new));
    }

    private static String fileName(String name) {
        return name.replace('*', '_');
    }

    private static Path writeKey(Path dir, String name, PrivateKey key) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(fileName(name) + ".key");
        if (Files.exists(file)) {
            throw new FileAlreadyExistsException(file + " (a key is never overwritten: move it away first)");
        }
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.writeString(file, CertificateFiles.toPem(new JcaPKCS8Generator(key, null)), StandardCharsets.US_ASCII);
        return file;
    }

    private static Path writeNew(Path file, String content) throws IOException {
        if (Files.exists(file)) {
            throw new FileAlreadyExistsException(file + " (move it away first)");
        }
        Files.writeString(file, content, StandardCharsets.US_ASCII);
        return file;
    }
}
