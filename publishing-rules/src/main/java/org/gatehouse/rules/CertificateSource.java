package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Where a named certificate under {@code certificates:} comes from. */
public sealed interface CertificateSource {

    /** The name rules use to refer to it. */
    String name();

    /** Where it was defined, for messages about it. */
    SourcePosition position();

    /** Whether an expired certificate is served anyway (with a warning) instead of refused. */
    default boolean allowExpired() {
        return false;
    }

    /** Whether the CA's OCSP response is fetched and stapled to the handshake (OpenSSL engine only). */
    default boolean ocspStapling() {
        return false;
    }

    /**
     * PEM files: the certificate file holds the leaf first, then its chain; the key is PKCS#1, SEC1 or PKCS#8, RSA or
     * EC, and may be an encrypted PKCS#8 key whose passphrase comes from {@code passphrase}. Paths are absolute
     * (resolved against the rules file's folder).
     */
    record PemFiles(String name, Path certificate, Path privateKey, Optional<Secret> passphrase, boolean allowExpired,
            boolean ocspStapling, SourcePosition position) implements CertificateSource {
        public PemFiles {
            requireNonNull(name, "name");
            requireNonNull(certificate, "certificate");
            requireNonNull(privateKey, "privateKey");
            requireNonNull(passphrase, "passphrase");
            requireNonNull(position, "position");
        }

        public PemFiles(String name, Path certificate, Path privateKey, SourcePosition position) {
            this(name, certificate, privateKey, Optional.empty(), false, false, position);
        }
    }

    /**
     * A PKCS#12 file ({@code .pfx}, {@code .p12}), as Windows and Exchange export a certificate with its private key
     * and chain; its password comes from {@code password} (none: an unprotected file).
     */
    record Pkcs12(String name, Path file, Optional<Secret> password, boolean allowExpired, boolean ocspStapling,
            SourcePosition position) implements CertificateSource {
        public Pkcs12 {
            requireNonNull(name, "name");
            requireNonNull(file, "file");
            requireNonNull(password, "password");
            requireNonNull(position, "position");
        }
    }

    /**
     * A self-signed certificate for the given DNS names and IP addresses, generated on first start and kept in the
     * state folder: for trying things out, never for clients that should trust the gateway.
     */
    record SelfSigned(String name, List<String> names, SourcePosition position) implements CertificateSource {
        public SelfSigned {
            requireNonNull(name, "name");
            names = List.copyOf(names);
            if (names.isEmpty()) {
                throw new IllegalArgumentException("a self-signed certificate needs at least one name");
            }
            requireNonNull(position, "position");
        }
    }
}
