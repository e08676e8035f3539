package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * How a rule speaks TLS to its clients.
 *
 * @param mode              implicit TLS, STARTTLS or none
 * @param certificates      names from {@code certificates:}; empty exactly when the mode is {@link TlsMode#NONE}. The
 *                          first is served to clients that name no host (SNI) or a host no certificate covers
 * @param policy            the versions and ciphers offered
 * @param protocols         versions that replace the policy's, as written ({@code TLSv1.2}); empty: the policy's
 * @param ciphers           cipher suites that replace the policy's, in order of preference; empty: the policy's
 * @param publicName        the name clients connect to, checked against the certificate's names
 * @param clientCertificate whether clients must (or may) present a certificate, and which CAs it must chain to
 */
public record TlsSettings(TlsMode mode, List<String> certificates, TlsPolicy policy, List<String> protocols,
        List<String> ciphers, Optional<String> publicName, Optional<ClientCertificate> clientCertificate) {

    public TlsSettings {
        requireNonNull(mode, "mode");
        certificates = List.copyOf(certificates);
        requireNonNull(policy, "policy");
        protocols = List.copyOf(protocols);
        ciphers = List.copyOf(ciphers);
        requireNonNull(publicName, "publicName");
        requireNonNull(clientCertificate, "clientCertificate");
        if ((mode == TlsMode.NONE) != certificates.isEmpty()) {
            throw new IllegalArgumentException("tls " + mode.configName() + " with certificates " + certificates);
        }
    }

    /** {@code mode} with {@code certificates} and every other setting at its default. */
    public static TlsSettings of(TlsMode mode, List<String> certificates) {
        return new TlsSettings(mode, certificates, TlsPolicy.INTERMEDIATE, List.of(), List.of(), Optional.empty(),
                Optional.empty());
    }

    public static TlsSettings none() {
        return of(TlsMode.NONE, List.of());
    }

    public boolean enabled() {
        return mode != TlsMode.NONE;
    }

    /**
     * Client certificates: {@code require} refuses a client without one that chains to {@code trust}; {@code optional}
     * asks, and records the verified subject when there is one.
     */
    public record ClientCertificate(Mode mode, Path trust) {
        public ClientCertificate {
            requireNonNull(mode, "mode");
            requireNonNull(trust, "trust");
        }

        public enum Mode implements ConfigWord {
            REQUIRE("require"),
            OPTIONAL("optional");

            private final String configName;

            Mode(String configName) {
                this.configName = configName;
            }

            @Override
            public String configName() {
                return configName;
            }
        }
    }
}
