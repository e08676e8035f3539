package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * How a rule speaks TLS to its clients.
 *
 * @param mode         implicit TLS, STARTTLS or none
 * @param certificates names from {@code certificates:}; empty exactly when the mode is {@link TlsMode#NONE}
 */
public record TlsSettings(TlsMode mode, List<String> certificates) {

    public TlsSettings {
        requireNonNull(mode, "mode");
        certificates = List.copyOf(certificates);
        if ((mode == TlsMode.NONE) != certificates.isEmpty()) {
            throw new IllegalArgumentException("tls " + mode.configName() + " with certificates " + certificates);
        }
    }

    public static TlsSettings none() {
        return new TlsSettings(TlsMode.NONE, List.of());
    }

    public boolean enabled() {
        return mode != TlsMode.NONE;
    }
}
