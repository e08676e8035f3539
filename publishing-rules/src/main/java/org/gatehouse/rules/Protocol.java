package org.gatehouse.rules;

import java.util.Locale;
import java.util.Optional;

/** The application protocol a rule publishes; it decides the error a client sees when the gateway cannot serve it. */
public enum Protocol implements ConfigWord {
    POP3,
    IMAP,
    SMTP,
    /** Any byte stream: relayed without looking at it. */
    TCP;

    /** Whether the gateway understands the protocol: STARTTLS, capability filtering and the login policy. */
    public boolean isMail() {
        return this != TCP;
    }

    /** The word used in the rules file. */
    @Override
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Protocol> fromConfigName(String word) {
        return ConfigWord.parse(Protocol.class, word);
    }
}
