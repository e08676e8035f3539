package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * How a mail rule treats logins, and sessions, on connections without TLS.
 *
 * @param policy                      what happens to a clear-text login
 * @param challengeResponseWithoutTls whether mechanisms that never send the password (APOP, CRAM-MD5, DIGEST-MD5,
 *                                    SCRAM-*, NTLM, GSSAPI) are accepted before TLS; when false they count as
 *                                    clear-text logins too
 * @param secureChannel               Exchange's "require secure channel": whether mail transactions (and any login)
 *                                    before TLS are refused, recorded, or let be
 */
public record LoginSettings(LoginPolicy policy, boolean challengeResponseWithoutTls, SecureChannel secureChannel) {

    public LoginSettings {
        requireNonNull(policy, "policy");
        requireNonNull(secureChannel, "secureChannel");
    }

    /** With the default {@link SecureChannel#AUDIT}. */
    public LoginSettings(LoginPolicy policy, boolean challengeResponseWithoutTls) {
        this(policy, challengeResponseWithoutTls, SecureChannel.AUDIT);
    }

    public static LoginSettings secureOnly() {
        return new LoginSettings(LoginPolicy.SECURE_ONLY, true);
    }

    /** Whether sessions without TLS are recorded at all: not under plaintext-allowed, nor with secureChannel: off. */
    public boolean recordsSessionsWithoutTls() {
        return policy != LoginPolicy.PLAINTEXT_ALLOWED && secureChannel != SecureChannel.OFF;
    }

    /**
     * What happens before TLS to what a login policy does not cover: an SMTP mail transaction (MAIL, RCPT, DATA, BDAT,
     * VRFY, EXPN), a client that looked at the capabilities and left, and, under {@code required}, any login.
     */
    public enum SecureChannel implements ConfigWord {
        /** Nothing recorded beyond logins: a port-25 server that takes mail from anyone, encrypted or not. */
        OFF("off"),
        /** Recorded in the report, log and metrics (the default): who would be refused under {@code required}. */
        AUDIT("audit"),
        /** Refused until the client has started TLS: every transaction command and every login, whatever kind. */
        REQUIRED("required");

        private final String configName;

        SecureChannel(String configName) {
            this.configName = configName;
        }

        @Override
        public String configName() {
            return configName;
        }

        public static Optional<SecureChannel> fromConfigName(String word) {
            return ConfigWord.parse(SecureChannel.class, word);
        }
    }
}
