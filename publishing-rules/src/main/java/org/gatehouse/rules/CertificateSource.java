package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;

/** Where a named certificate under {@code certificates:} comes from. */
public sealed interface CertificateSource {

    /** The name rules use to refer to it. */
    String name();

    /** Where it was defined, for messages about it. */
    SourcePosition position();

    /**
     * PEM files: the certificate file holds the leaf first, then its chain; the key is PKCS#1 or PKCS#8, RSA or EC.
     * Paths are absolute (resolved against the rules file's folder).
     */
    record PemFiles(String name, Path certificate, Path privateKey, SourcePosition position) implements CertificateSource {
        public PemFiles {
            requireNonNull(name, "name");
            requireNonNull(certificate, "certificate");
            requireNonNull(privateKey, "privateKey");
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
