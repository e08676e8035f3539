package org.gatehouse.rules;

import java.util.Locale;
import java.util.Optional;

/** How a rule's listener speaks TLS to clients. */
public enum TlsMode {
    /** TLS from the first byte (POP3S 995, IMAPS 993, SMTPS 465). */
    IMPLICIT,
    /**
     * Plaintext until the client asks for TLS with the protocol's own command (POP3 {@code STLS}, IMAP and SMTP
     * {@code STARTTLS}), which the gateway answers itself.
     */
    STARTTLS,
    /** Plaintext to the client as well: the gateway only filters clients and relays. */
    NONE;

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<TlsMode> fromConfigName(String word) {
        for (TlsMode m : values()) {
            if (m.configName().equals(word)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }
}
