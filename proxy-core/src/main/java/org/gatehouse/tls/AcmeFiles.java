package org.gatehouse.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.Secret;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where an ACME certificate lives in the state folder ({@code acme/NAME/current/certificate.pem} with its chain, and
 * {@code key.pem}), how it is read for serving, and the temporary self-signed stand-in served until the CA has issued
 * the first one. Each issued certificate gets a folder of its own, and {@code current} is a symbolic link replaced in
 * one rename: a reload at any moment reads either the old pair or the new one, never a new key with an old certificate.
 */
public final class AcmeFiles {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.acme");

    /** How long the stand-in is valid: it only bridges the minutes until the first issue. */
    static final Duration TEMPORARY_VALIDITY = Duration.ofDays(7);

    private AcmeFiles() {
    }

    public static Path folder(Path stateDir, String name) {
        return stateDir.resolve("acme").resolve(name);
    }

    /** The certificate chain the CA issued last, if there is one that reads. */
    public static Optional<List<X509Certificate>> issuedChain(Path stateDir, String name) {
        return current(stateDir, name).flatMap(dir -> {
            try {
                return Optional.of(PemFiles.readChain(dir.resolve("certificate.pem")));
            } catch (PemFiles.PemException e) {
                return Optional.empty();
            }
        });
    }

    /**
     * The folder {@code current} points at now, resolved once: both files are read from it, even if a new issue
     * moves the link in between.
     */
    private static Optional<Path> current(Path stateDir, String name) {
        try {
            Path dir = folder(stateDir, name).resolve("current").toRealPath();
            return Files.isReadable(dir.resolve("certificate.pem")) && Files.isReadable(dir.resolve("key.pem"))
                    ? Optional.of(dir)
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // nothing issued yet
        }
    }

    /** A secret's characters (an EAB MAC key), read as certificate passphrases are. */
    public static char[] secret(Secret secret) throws IOException {
        try {
            return CertificateMaterial.read(secret, ".eab.hmacKey");
        } catch (CertificateMaterial.MaterialException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Writes the key and the chain to a new folder, then points {@code current} at it; older folders go but one. */
    public static void write(Path stateDir, String name, PrivateKey key, List<X509Certificate> chain)
            throws IOException {
        Path folder = folder(stateDir, name);
        String version = "issued-" + chain.get(0).getSerialNumber().toString(16);
        Path target = folder.resolve(version);
        Files.createDirectories(target);
        StringBuilder pem = new StringBuilder();
        for (X509Certificate c : chain) {
            pem.append(SelfSignedCertificates.toPem(c));
        }
        SelfSignedCertificates.writeAtomically(target.resolve("key.pem"),
                SelfSignedCertificates.toPem(new JcaPKCS8Generator(key, null)), true); // PKCS#8: EC keys of any provider
        SelfSignedCertificates.writeAtomically(target.resolve("certificate.pem"), pem.toString(), false);
        Path previous = Files.isSymbolicLink(folder.resolve("current"))
                ? folder.resolve(Files.readSymbolicLink(folder.resolve("current")).toString())
                : null;
        Path link = folder.resolve("current.tmp");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of(version));
        Files.move(link, folder.resolve("current"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        try (var old = Files.newDirectoryStream(folder, "issued-*")) {
            for (Path dir : old) {
                if (!dir.equals(target) && !dir.equals(previous)) {
                    deleteFolder(dir);
                }
            }
        }
    }

    private static void deleteFolder(Path dir) throws IOException {
        try (var files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }

    /**
     * What an ACME certificate serves: the issued one from the state folder when it reads and belongs to its key, or
     * else a temporary self-signed certificate for the same names ({@code temporary} true).
     */
    static Loaded load(Path stateDir, CertificateSource.Acme acme) throws CertificateMaterial.MaterialException {
        Optional<Path> current = current(stateDir, acme.name());
        if (current.isPresent()) {
            Path dir = current.get();
            try {
                List<X509Certificate> chain = PemFiles.readChain(dir.resolve("certificate.pem"));
                PrivateKey key = PemFiles.readKey(dir.resolve("key.pem"));
                if (PemFiles.matches(key, chain.get(0).getPublicKey())) {
                    return new Loaded(new TlsMaterial(acme.name(), key, chain), false);
                }
                log.warn("the issued ACME certificate in {} does not belong to its key: the temporary one is served "
                        + "until the next issue", dir);
            } catch (PemFiles.PemException e) {
                log.warn("the issued ACME certificate in {} does not read ({}): the temporary one is served until "
                        + "the next issue", dir, e.getMessage());
            }
        }
        try {
            KeyPair pair = SelfSignedCertificates.newEcKeyPair();
            X509Certificate self = SelfSignedCertificates.selfSign(pair, acme.names(), Instant.now(),
                    TEMPORARY_VALIDITY);
            return new Loaded(new TlsMaterial(acme.name(), pair.getPrivate(), List.of(self)), true);
        } catch (GeneralSecurityException e) {
            throw new CertificateMaterial.MaterialException(".acme", "cannot make the temporary certificate ("
                    + e.getMessage() + ")");
        }
    }

    record Loaded(TlsMaterial material, boolean temporary) {
    }
}
