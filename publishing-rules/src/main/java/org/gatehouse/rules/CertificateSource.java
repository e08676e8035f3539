package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.net.URI;
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

    /**
     * A certificate from an ACME CA (RFC 8555: Let's Encrypt, a private step-ca...), issued on first start and renewed
     * by the gateway, kept with its account key in the state folder. Until the CA has issued it, a temporary
     * self-signed certificate for the same names is served.
     *
     * @param directory     the CA's directory URL
     * @param contact       {@code mailto:} addresses for the account (may be empty)
     * @param names         the DNS names the certificate is for (the first is its subject)
     * @param keyType       the certificate's key
     * @param http01        where the gateway answers the http-01 challenge ({@code host:80}); empty: no http-01
     * @param tlsAlpn01     whether TLS listeners answer tls-alpn-01 (ALPN {@code acme-tls/1})
     * @param httpRedirect  where requests for anything else on the http-01 listener are sent (301); empty: 404
     * @param eab           external account binding for CAs that ask for one
     * @param caCertificate an extra CA (PEM) to trust for the directory's HTTPS, for private CAs; empty: the JDK's
     */
    record Acme(String name, URI directory, List<String> contact, List<String> names, KeyType keyType,
            Optional<HostPort> http01, boolean tlsAlpn01, Optional<String> httpRedirect,
            Optional<ExternalAccount> eab, Optional<Path> caCertificate, SourcePosition position)
            implements
                CertificateSource {
        public Acme {
            requireNonNull(name, "name");
            requireNonNull(directory, "directory");
            contact = List.copyOf(contact);
            names = List.copyOf(names);
            if (names.isEmpty()) {
                throw new IllegalArgumentException("an ACME certificate needs at least one name");
            }
            requireNonNull(keyType, "keyType");
            requireNonNull(http01, "http01");
            requireNonNull(httpRedirect, "httpRedirect");
            requireNonNull(eab, "eab");
            requireNonNull(caCertificate, "caCertificate");
            requireNonNull(position, "position");
            if (http01.isEmpty() && !tlsAlpn01) {
                throw new IllegalArgumentException("an ACME certificate needs a challenge (http01 or tlsAlpn01)");
            }
        }

        /** The key of the certificate the CA signs. */
        public enum KeyType implements ConfigWord {
            EC_P256("ec-p256"),
            RSA_2048("rsa-2048");

            private final String configName;

            KeyType(String configName) {
                this.configName = configName;
            }

            @Override
            public String configName() {
                return configName;
            }

            public static Optional<KeyType> fromConfigName(String word) {
                return ConfigWord.parse(KeyType.class, word);
            }
        }

        /** RFC 8555 7.3.4: the key id and the base64url MAC key the CA gave. */
        public record ExternalAccount(String keyId, Secret hmacKey) {
            public ExternalAccount {
                requireNonNull(keyId, "keyId");
                requireNonNull(hmacKey, "hmacKey");
            }
        }
    }
}
