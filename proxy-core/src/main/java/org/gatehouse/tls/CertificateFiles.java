package org.gatehouse.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.Secret;
import org.gatehouse.rules.SourcePosition;

/**
 * What the TLS layer offers the command line about certificate files, read and written the way the gateway reads them
 * (within their size bounds, PEM or PKCS#12 through BouncyCastle).
 */
public final class CertificateFiles {

    /** A certificate file's chain, leaf first, and the key bundled with it (PKCS#12), if any. */
    public record Contents(List<X509Certificate> chain, Optional<PrivateKey> key) {
    }

    private CertificateFiles() {
    }

    /** A PEM certificate chain. */
    public static Contents readPem(Path file) throws IOException {
        try {
            return new Contents(PemFiles.readChain(file), Optional.empty());
        } catch (PemFiles.PemException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** A PKCS#12 file's chain and key; {@code passwordFile} is where the password came from, for messages. */
    public static Contents readPkcs12(Path file, char[] password, Optional<Path> passwordFile) throws IOException {
        try {
            TlsMaterial material = CertificateMaterial.loadPkcs12(new CertificateSource.Pkcs12("show", file,
                    passwordFile.map(Secret.File::new), true, false, SourcePosition.unknown("cli")), password);
            return new Contents(material.chain(), Optional.of(material.key()));
        } catch (CertificateMaterial.MaterialException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * What is wrong with a key and its chain as the gateway would serve them (the key's certificate not first, a
     * pair out of order), or empty.
     */
    public static Optional<String> chainProblem(PrivateKey key, List<X509Certificate> chain) {
        try {
            CertificateMaterial.checkKeyAndChain(new TlsMaterial("show", key, chain), "the private key",
                    "the certificate", "");
            return Optional.empty();
        } catch (CertificateMaterial.MaterialException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** A warning when the chain's last certificate has an issuer neither in the file nor trusted here. */
    public static Optional<String> missingIssuer(List<X509Certificate> chain) {
        return CertificateChains.missingIssuer(chain);
    }

    /** An unencrypted PEM private key. */
    public static PrivateKey readKey(Path file) throws IOException {
        try {
            return PemFiles.readKey(file);
        } catch (PemFiles.PemException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** The DNS names and IP addresses a certificate is for. */
    public static List<String> names(X509Certificate certificate) {
        return CertificateMaterial.names(certificate);
    }

    /** Whether {@code key} is the private half of {@code publicKey}. */
    public static boolean matches(PrivateKey key, PublicKey publicKey) {
        return PemFiles.matches(key, publicKey);
    }

    /** A new P-256 key pair. */
    public static KeyPair newEcKeyPair() throws GeneralSecurityException {
        return SelfSignedCertificates.newEcKeyPair();
    }

    /** A certificate for {@code names} signed by its own key, valid from {@code notBefore} for {@code validity}. */
    public static X509Certificate selfSign(KeyPair pair, List<String> names, Instant notBefore, Duration validity)
            throws GeneralSecurityException {
        return SelfSignedCertificates.selfSign(pair, names, notBefore, validity);
    }

    /** A certificate, key or request as PEM text. */
    public static String toPem(Object object) throws IOException {
        return SelfSignedCertificates.toPem(object);
    }
}
