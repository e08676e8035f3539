package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

/**
 * How a mail rule treats logins on connections without TLS.
 *
 * @param policy                      what happens to a clear-text login
 * @param challengeResponseWithoutTls whether mechanisms that never send the password (APOP, CRAM-MD5, DIGEST-MD5,
 *                                    SCRAM-*, NTLM, GSSAPI) are accepted before TLS; when false they count as
 *                                    clear-text logins too
 */
public record LoginSettings(LoginPolicy policy, boolean challengeResponseWithoutTls) {

    public LoginSettings {
        requireNonNull(policy, "policy");
    }

    public static LoginSettings secureOnly() {
        return new LoginSettings(LoginPolicy.SECURE_ONLY, true);
    }
}
