package org.gatehouse.rules;

import java.util.Locale;
import java.util.Optional;

/** How a rule's listener speaks TLS to clients. */
public enum TlsMode implements ConfigWord {
    /** TLS from the first byte (POP3S 995, IMAPS 993, SMTPS 465). */
    IMPLICIT,
    /**
     * Plaintext until the client asks for TLS with the protocol's own command (POP3 {@code STLS}, IMAP and SMTP
     * {@code STARTTLS}), which the gateway answers itself.
     */
    STARTTLS,
    /** Plaintext to the client as well: the gateway only filters clients and relays. */
    NONE;

    @Override
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<TlsMode> fromConfigName(String word) {
        return ConfigWord.parse(TlsMode.class, word);
    }
}
