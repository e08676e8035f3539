package org.gatehouse.protection;

/** What became of one login attempt, as the backend's reply (or the gateway) said. */
public enum LoginResult {
    /** The backend accepted it. */
    SUCCESS("success"),
    /** The backend refused the credentials: the only result that counts as a failure. */
    BAD_CREDENTIALS("bad-credentials"),
    /** The backend could not decide now ({@code [SYS/TEMP]}, {@code [UNAVAILABLE]}, {@code 454}): never counted. */
    TEMPORARY_FAILURE("temporary-failure"),
    /** Any other refusal (a syntax error, an expired password, a mechanism refused): not counted. */
    OTHER_FAILURE("other-failure"),
    /** The gateway refused it (a blocked address or user): never forwarded. */
    REFUSED("refused");

    private final String label;

    LoginResult(String label) {
        this.label = label;
    }

    /** The word in logs and the {@code result} tag. */
    public String label() {
        return label;
    }
}
