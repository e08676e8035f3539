package org.gatehouse.rules;

import java.util.Optional;

/**
 * Which TLS versions and ciphers a listener offers, after Mozilla's server-side TLS profiles. No profile offers a
 * cipher under 128 bits.
 */
public enum TlsPolicy implements ConfigWord {
    /** TLS 1.3 only. */
    MODERN("modern"),
    /** TLS 1.2 and 1.3, ECDHE key exchange and AEAD ciphers only: the default. */
    INTERMEDIATE("intermediate"),
    /** Adds TLS 1.0 and 1.1 and CBC ciphers, for very old clients; warned about at start. */
    LEGACY("legacy");

    private final String configName;

    TlsPolicy(String configName) {
        this.configName = configName;
    }

    @Override
    public String configName() {
        return configName;
    }

    public static Optional<TlsPolicy> fromConfigName(String word) {
        return ConfigWord.parse(TlsPolicy.class, word);
    }
}
