package org.gatehouse.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.Secret;
import org.gatehouse.rules.load.BoundedFile;

/**
 * Loads a certificate's material (PEM files, encrypted or not, or a PKCS#12 file) and checks it the way a client will:
 * the key belongs to the certificate, the chain is in order with each certificate signed by the next, and the
 * certificate is within its validity period. Problems stop the load; warnings (expiring soon, expired but allowed) are
 * collected for {@code check} and the log.
 */
final class CertificateMaterial {

    /** A certificate with less than this left is warned about. */
    static final Duration EXPIRY_WARNING = Duration.ofDays(30);

    private CertificateMaterial() {
    }

    /** A problem with one certificate; {@code key} is the key path suffix it concerns (".privateKey", ""). */
    static final class MaterialException extends Exception {
        private static final long serialVersionUID = 1L;
        final String key;

        MaterialException(String key, String message) {
            super(message);
            this.key = key;
        }
    }

    static TlsMaterial loadPem(CertificateSource.PemFiles pem) throws MaterialException {
        List<X509Certificate> chain;
        try {
            chain = PemFiles.readChain(pem.certificate());
        } catch (PemFiles.PemException e) {
            throw new MaterialException(".certificate", e.getMessage());
        }
        PrivateKey key;
        try {
            char[] passphrase = pem.passphrase().isPresent() ? read(pem.passphrase().get(), ".passphrase") : null;
            key = PemFiles.readKey(pem.privateKey(), passphrase, pem.passphrase().map(Secret::describe).orElse(""));
        } catch (PemFiles.PemException e) {
            throw new MaterialException(".privateKey", e.getMessage());
        }
        TlsMaterial material = new TlsMaterial(pem.name(), key, chain);
        checkKeyAndChain(material, "the private key in " + pem.privateKey(), "the certificate in " + pem.certificate(),
                ".privateKey");
        return material;
    }

    static TlsMaterial loadPkcs12(CertificateSource.Pkcs12 p12) throws MaterialException {
        return loadPkcs12(p12, p12.password().isPresent() ? read(p12.password().get(), ".password") : new char[0]);
    }

    static TlsMaterial loadPkcs12(CertificateSource.Pkcs12 p12, char[] password) throws MaterialException {
        KeyStore store;
        try (InputStream in = new ByteArrayInputStream(BoundedFile.read(p12.file(),
                BoundedFile.MAX_CERTIFICATE_FILE, "a PKCS#12 file"))) {
            // BouncyCastle's reader also opens the older encryptions (RC2, 3DES) that Windows exports still use.
            store = KeyStore.getInstance("PKCS12", BouncyCastle.provider());
            store.load(in, password);
        } catch (BoundedFile.TooLargeException e) {
            throw new MaterialException(".pkcs12", e.getMessage());
        } catch (IOException e) {
            boolean wrongPassword = e.getCause() instanceof UnrecoverableKeyException
                    || String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("password");
            throw new MaterialException(".pkcs12", wrongPassword
                    ? "cannot open " + p12.file() + " with the password from "
                            + p12.password().map(Secret::describe).orElse("nowhere (no password given)")
                            + " (wrong password?)"
                    : p12.file() + " is not a PKCS#12 file (" + e.getMessage() + ")");
        } catch (GeneralSecurityException e) {
            throw new MaterialException(".pkcs12", p12.file() + " cannot be read as PKCS#12 (" + e.getMessage() + ")");
        }
        try {
            for (String alias : Collections.list(store.aliases())) {
                if (!store.isKeyEntry(alias)) {
                    continue;
                }
                Key key = store.getKey(alias, password);
                Certificate[] certificates = store.getCertificateChain(alias);
                if (!(key instanceof PrivateKey privateKey) || certificates == null || certificates.length == 0) {
                    continue;
                }
                List<X509Certificate> chain = new ArrayList<>();
                for (Certificate c : certificates) {
                    chain.add((X509Certificate) c);
                }
                TlsMaterial material = new TlsMaterial(p12.name(), privateKey, chain);
                checkKeyAndChain(material, "the private key in " + p12.file(), "its certificate", ".pkcs12");
                return material;
            }
        } catch (GeneralSecurityException e) {
            throw new MaterialException(".pkcs12",
                    "cannot read the key in " + p12.file() + " (" + e.getMessage() + ")");
        }
        throw new MaterialException(".pkcs12", p12.file() + " holds no private key with its certificate (expected a "
                + ".pfx exported with its private key: in Windows' export wizard, \"Yes, export the private key\")");
    }

    /** The secret's characters: the environment variable's value, or the file's content without a final line break. */
    static char[] read(Secret secret, String key) throws MaterialException {
        if (secret instanceof Secret.Environment env) {
            String value = System.getenv(env.variable());
            if (value == null) {
                throw new MaterialException(key, "environment variable " + env.variable() + " is not set");
            }
            return value.toCharArray();
        }
        Path file = ((Secret.File) secret).path();
        try {
            String text = new String(BoundedFile.read(file, BoundedFile.MAX_SECRET_FILE, "a passphrase file"),
                    StandardCharsets.UTF_8);
            return text.endsWith("\r\n")
                    ? text.substring(0, text.length() - 2).toCharArray()
                    : text.endsWith("\n") ? text.substring(0, text.length() - 1).toCharArray() : text.toCharArray();
        } catch (BoundedFile.TooLargeException e) {
            throw new MaterialException(key, e.getMessage());
        } catch (IOException e) {
            throw new MaterialException(key, "cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
        }
    }

    static void checkKeyAndChain(TlsMaterial material, String key, String certificate, String keyPath)
            throws MaterialException {
        X509Certificate leaf = material.leaf();
        if (!PemFiles.matches(material.key(), leaf.getPublicKey())) {
            Optional<String> misplaced = CertificateChains.keyBelongsElsewhere(material.key(), material.chain(),
                    certificate);
            if (misplaced.isPresent()) {
                throw new MaterialException("", misplaced.get());
            }
            throw new MaterialException(keyPath, key + " does not match " + certificate + " (subject "
                    + leaf.getSubjectX500Principal().getName() + ")");
        }
        List<X509Certificate> chain = material.chain();
        for (int i = 0; i + 1 < chain.size(); i++) {
            X509Certificate cert = chain.get(i);
            X509Certificate issuer = chain.get(i + 1);
            boolean signed = CertificateChains.signed(cert, issuer);
            if (!signed) {
                throw new MaterialException("",
                        "the chain of " + certificate + " is out of order: certificate " + (i + 2)
                                + " (" + issuer.getSubjectX500Principal().getName() + ") did not sign certificate "
                                + (i + 1) + " ("
                                + cert.getSubjectX500Principal().getName() + ", issued by "
                                + cert.getIssuerX500Principal().getName()
                                + "); expected the server certificate first, then the CA that issued it, and so on"
                                + CertificateChains.order(chain, 0));
            }
        }
    }

    /**
     * Whether the leaf is valid now: a problem when not yet valid, or expired and not allowed; a warning when expired
     * and allowed, or when less than {@link #EXPIRY_WARNING} remains.
     */
    static Optional<String> checkValidity(TlsMaterial material, boolean allowExpired, Instant now)
            throws MaterialException {
        X509Certificate leaf = material.leaf();
        Instant notBefore = leaf.getNotBefore().toInstant();
        Instant notAfter = leaf.getNotAfter().toInstant();
        if (now.isBefore(notBefore)) {
            throw new MaterialException("",
                    "is not valid before " + notBefore + " (the server's clock, or a certificate "
                            + "issued for later?)");
        }
        if (!now.isBefore(notAfter)) {
            String message = "expired on " + notAfter + "; clients will refuse it";
            if (!allowExpired) {
                throw new MaterialException("", message + " (renew it, or set allowExpired: true to serve it anyway)");
            }
            return Optional.of(message + ", served anyway since allowExpired is true");
        }
        long days = Duration.between(now, notAfter).toDays();
        if (Duration.between(now, notAfter).compareTo(EXPIRY_WARNING) < 0) {
            return Optional
                    .of("expires on " + notAfter + ", in " + days + " day" + (days == 1 ? "" : "s") + ": renew it");
        }
        return Optional.empty();
    }

    /** The DNS names (and IP addresses) a certificate is valid for: its subject alternative names. */
    static List<String> names(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            if (certificate.getSubjectAlternativeNames() != null) {
                for (List<?> san : certificate.getSubjectAlternativeNames()) {
                    Integer type = (Integer) san.get(0);
                    if (type == 2 || type == 7) { // dNSName, iPAddress
                        names.add(String.valueOf(san.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // no usable names
        }
        return names;
    }

    /** Whether {@code host} is covered by {@code names}, a wildcard covering exactly one leftmost label (RFC 6125). */
    static boolean covers(List<String> names, String host) {
        String h = host.toLowerCase(Locale.ROOT);
        for (String name : names) {
            if (name.equals(h)) {
                return true;
            }
            if (name.startsWith("*.")) {
                int dot = h.indexOf('.');
                if (dot > 0 && h.substring(dot + 1).equals(name.substring(2))) {
                    return true;
                }
            }
        }
        return false;
    }
}
