package org.gatehouse.rules;

import java.util.Optional;

/**
 * What the gateway does with a login that would send a password (or a bearer token) in clear text: a login on a
 * connection without TLS, by POP3 {@code USER}/{@code PASS}, IMAP {@code LOGIN}, or a SASL mechanism that carries the
 * secret itself ({@code PLAIN}, {@code LOGIN}, ...).
 */
public enum LoginPolicy implements ConfigWord {
    /** Refused by the gateway and never forwarded; not advertised either. The default. */
    SECURE_ONLY("secure-only"),
    /** Forwarded as before, and recorded (rule, client, user name; never the password): the migration step. */
    AUDIT("audit"),
    /** Forwarded without a record: the legacy behaviour, for networks where the risk is accepted. */
    PLAINTEXT_ALLOWED("plaintext-allowed");

    private final String configName;

    LoginPolicy(String configName) {
        this.configName = configName;
    }

    @Override
    public String configName() {
        return configName;
    }

    public static Optional<LoginPolicy> fromConfigName(String word) {
        return ConfigWord.parse(LoginPolicy.class, word);
    }
}
