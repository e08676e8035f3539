package org.gatehouse.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;
import org.gatehouse.rules.load.BoundedFile;

/** Reads PEM certificate chains and private keys with BouncyCastle; every failure says what was found. */
final class PemFiles {

    private PemFiles() {
    }

    /** Thrown with a message fit for an operator: what is wrong with which file. */
    static final class PemException extends Exception {
        private static final long serialVersionUID = 1L;

        PemException(String message) {
            super(message);
        }
    }

    /**
     * The file's text, read within {@link BoundedFile#MAX_CERTIFICATE_FILE}: a file the rules name is never read whole
     * into memory when it is larger (a check at load time says so first, but the file may have grown since).
     */
    private static Reader bounded(Path file) throws IOException {
        byte[] bytes = BoundedFile.read(file, BoundedFile.MAX_CERTIFICATE_FILE, "a certificate or key file");
        return new InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.US_ASCII);
    }

    static List<X509Certificate> readChain(Path file) throws PemException {
        List<X509Certificate> chain = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        try (Reader reader = bounded(file); PEMParser parser = new PEMParser(reader)) {
            Object o;
            while ((o = parser.readObject()) != null) {
                if (o instanceof X509CertificateHolder holder) {
                    chain.add(converter.getCertificate(holder));
                } else {
                    throw new PemException(file + " holds " + describe(o) + " where certificates were expected");
                }
            }
        } catch (BoundedFile.TooLargeException e) {
            throw new PemException(e.getMessage());
        } catch (IOException | CertificateException | IllegalArgumentException e) {
            throw new PemException(file + " is not a PEM certificate file (" + e.getMessage() + ")");
        }
        if (chain.isEmpty()) {
            throw new PemException(file + " holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)");
        }
        return chain;
    }

    static PrivateKey readKey(Path file) throws PemException {
        return readKey(file, null, "");
    }

    /**
     * Reads a private key, decrypting an encrypted PKCS#8 (or legacy OpenSSL-encrypted) key with {@code passphrase}.
     *
     * @param passphraseSource where the passphrase came from, for messages (never the passphrase itself)
     */
    static PrivateKey readKey(Path file, char[] passphrase, String passphraseSource) throws PemException {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try (Reader reader = bounded(file); PEMParser parser = new PEMParser(reader)) {
            Object o;
            while ((o = parser.readObject()) != null) {
                if (o instanceof PEMKeyPair pair) {
                    // PKCS#1 RSA or SEC1 EC; a SEC1 key may omit its public part, which the private key info does not need.
                    return converter.getPrivateKey(pair.getPrivateKeyInfo());
                }
                if (o instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info); // PKCS#8
                }
                if (o instanceof PKCS8EncryptedPrivateKeyInfo || o instanceof PEMEncryptedKeyPair) {
                    if (passphrase == null) {
                        throw new PemException(file + " holds an encrypted private key, and the certificate names no "
                                + "passphrase (expected passphrase: { env: VARIABLE } or { file: PATH })");
                    }
                    try {
                        if (o instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
                            return converter.getPrivateKey(encrypted.decryptPrivateKeyInfo(
                                    new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BouncyCastle.provider())
                                            .build(passphrase)));
                        }
                        return converter.getPrivateKey(((PEMEncryptedKeyPair) o).decryptKeyPair(
                                new JcePEMDecryptorProviderBuilder().setProvider(BouncyCastle.provider())
                                        .build(passphrase))
                                .getPrivateKeyInfo());
                    } catch (PKCSException | OperatorCreationException | IOException e) {
                        throw new PemException(
                                "cannot decrypt the private key in " + file + " with the passphrase from "
                                        + passphraseSource + " (wrong passphrase?)");
                    }
                }
                // EC PARAMETERS blocks and the like precede the key in some files: skip them.
            }
        } catch (BoundedFile.TooLargeException e) {
            throw new PemException(e.getMessage());
        } catch (IOException | IllegalArgumentException e) {
            throw new PemException(file + " is not a PEM private key file (" + e.getMessage() + ")");
        }
        throw new PemException(file + " holds no private key (expected -----BEGIN PRIVATE KEY-----, "
                + "-----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)");
    }

    /** Whether {@code key} is the private half of {@code publicKey}: sign a random challenge and verify it. */
    static boolean matches(PrivateKey key, PublicKey publicKey) {
        if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
            return false;
        }
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return false;
        }
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String describe(Object o) {
        if (o instanceof PEMKeyPair || o instanceof PrivateKeyInfo || o instanceof PKCS8EncryptedPrivateKeyInfo) {
            return "a private key";
        }
        return "a " + o.getClass().getSimpleName();
    }
}
