package org.gatehouse.mail;

import java.util.Locale;
import org.gatehouse.protection.LoginResult;

/**
 * What a backend's final reply to a login says about it, by protocol: only a refusal of the credentials counts as a
 * failure; a temporary failure (the server cannot decide now) or any other refusal never does.
 */
final class LoginReplies {

    private LoginReplies() {
    }

    /**
     * POP3: {@code +OK}; {@code -ERR [AUTH]} or a bare {@code -ERR} (most servers give no code) is bad credentials;
     * {@code [SYS/TEMP]}, {@code [IN-USE]} (RFC 2449, 3206) are temporary; {@code [SYS/PERM]} and other codes, other.
     */
    static LoginResult pop3(String line) {
        if (CommandLines.startsWithIgnoreCase(line, "+OK")) {
            return LoginResult.SUCCESS;
        }
        String rest = line.length() > 4 ? line.substring(4).stripLeading().toUpperCase(Locale.ROOT) : "";
        if (rest.startsWith("[SYS/TEMP]") || rest.startsWith("[IN-USE]")) {
            return LoginResult.TEMPORARY_FAILURE;
        }
        if (rest.startsWith("[") && !rest.startsWith("[AUTH]")) {
            return LoginResult.OTHER_FAILURE;
        }
        return CommandLines.startsWithIgnoreCase(line, "-ERR")
                ? LoginResult.BAD_CREDENTIALS
                : LoginResult.OTHER_FAILURE;
    }

    /**
     * IMAP, a tagged reply: {@code OK}; {@code NO [AUTHENTICATIONFAILED]} or a {@code NO} without a code is bad
     * credentials; {@code [UNAVAILABLE]}, {@code [SERVERBUG]}, {@code [INUSE]}, {@code [LIMIT]} (RFC 5530) are
     * temporary; {@code BAD} and other codes ({@code [EXPIRED]}, {@code [PRIVACYREQUIRED]}, ...) are other.
     *
     * @param status the reply's second word, upper case
     * @param text   what follows it
     */
    static LoginResult imap(String status, String text) {
        switch (status) {
            case "OK" -> {
                return LoginResult.SUCCESS;
            }
            case "NO" -> {
                String t = text.stripLeading().toUpperCase(Locale.ROOT);
                if (!t.startsWith("[") || t.startsWith("[AUTHENTICATIONFAILED]")) {
                    return LoginResult.BAD_CREDENTIALS;
                }
                for (String code : new String[]{"[UNAVAILABLE]", "[SERVERBUG]", "[INUSE]", "[LIMIT]"}) {
                    if (t.startsWith(code)) {
                        return LoginResult.TEMPORARY_FAILURE;
                    }
                }
                return LoginResult.OTHER_FAILURE;
            }
            default -> {
                return LoginResult.OTHER_FAILURE;
            }
        }
    }

    /** SMTP AUTH (RFC 4954): 235; 535 is bad credentials; 454 and any 4xx are temporary; other codes, other. */
    static LoginResult smtp(String line) {
        String code = line.length() >= 3 ? line.substring(0, 3) : "";
        if (code.equals("235")) {
            return LoginResult.SUCCESS;
        }
        if (code.equals("535")) {
            return LoginResult.BAD_CREDENTIALS;
        }
        return code.startsWith("4") ? LoginResult.TEMPORARY_FAILURE : LoginResult.OTHER_FAILURE;
    }
}
