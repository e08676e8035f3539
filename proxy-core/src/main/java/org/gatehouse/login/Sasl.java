package org.gatehouse.login;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** What the gateway needs to know about SASL mechanisms: whether one sends the secret, and who is logging in. */
public final class Sasl {

    /**
     * Mechanisms that prove knowledge of the password without sending it, or hand the proof to a third party. Every
     * other mechanism, known or not, counts as sending a secret (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER, ...).
     */
    private static final Set<String> CHALLENGE_RESPONSE = Set.of("CRAM-MD5", "DIGEST-MD5", "NTLM", "GSSAPI",
            "GSS-SPNEGO");

    private static final int MAX_USER_CHARS = 128;

    /**
     * The mechanisms whose names may be written to a log or a report. Any other word a client sends where a mechanism
     * belongs is written {@code other}: it could be anything, a password included.
     */
    private static final Set<String> KNOWN = Set.of("PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "NTLM", "GSSAPI",
            "GSS-SPNEGO", "XOAUTH2", "OAUTHBEARER", "EXTERNAL", "ANONYMOUS", "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS",
            "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-512-PLUS", "SRP", "KERBEROS_V4",
            "OTP", "SECURID", "EAP-AES128", "EAP-AES128-PLUS", "9798-U-RSA-SHA1-ENC");

    /** What a log or report says for a mechanism: its name when it is a known one, {@code other} otherwise. */
    public static String label(String mechanism) {
        String m = mechanism.toUpperCase(Locale.ROOT);
        return KNOWN.contains(m) ? m : "other";
    }

    /** A SASL login as logs and reports name it: the command (the gateway's word) and the mechanism's label. */
    public static String method(String command, String mechanism) {
        return command + " " + label(mechanism);
    }

    private Sasl() {
    }

    /** Whether a mechanism puts the password, or a token as good as one, on the wire. */
    public static boolean sendsSecret(String mechanism) {
        String m = mechanism.toUpperCase(Locale.ROOT);
        return !(CHALLENGE_RESPONSE.contains(m) || m.startsWith("SCRAM-"));
    }

    /** The user name in a SASL PLAIN message (RFC 4616: authzid NUL authcid NUL passwd), base64 encoded. */
    public static Optional<String> plainUser(String base64) {
        byte[] message = decode(base64);
        if (message == null) {
            return Optional.empty();
        }
        try {
            int first = indexOf(message, 0);
            int second = first < 0 ? -1 : indexOf(message, first + 1);
            if (second < 0) {
                return Optional.empty();
            }
            return Optional.of(user(new String(message, first + 1, second - first - 1, StandardCharsets.UTF_8)));
        } finally {
            Arrays.fill(message, (byte) 0); // the password is in there
        }
    }

    /**
     * The password in a SASL PLAIN message (base64), or null: only for account protection's fingerprint of a failure.
     * The caller zeroes it.
     */
    public static byte[] plainPassword(String base64) {
        byte[] message = decode(base64);
        if (message == null) {
            return null;
        }
        try {
            int first = indexOf(message, 0);
            int second = first < 0 ? -1 : indexOf(message, first + 1);
            return second < 0 ? null : Arrays.copyOfRange(message, second + 1, message.length);
        } finally {
            Arrays.fill(message, (byte) 0);
        }
    }

    /** A SASL response decoded (a LOGIN client's password is its second), or null; the caller zeroes it. */
    public static byte[] decoded(String base64) {
        return decode(base64);
    }

    /** The user name a SASL LOGIN client sends as its first response, base64 encoded. */
    public static Optional<String> loginUser(String base64) {
        byte[] name = decode(base64);
        return name == null ? Optional.empty() : Optional.of(user(new String(name, StandardCharsets.UTF_8)));
    }

    /** The user name in a first SASL response of PLAIN or LOGIN; empty for other mechanisms or unreadable data. */
    public static String userIn(String mechanism, String response) {
        return switch (mechanism.toUpperCase(Locale.ROOT)) {
            case "PLAIN" -> plainUser(response).orElse("");
            case "LOGIN" -> loginUser(response).orElse("");
            default -> "";
        };
    }

    /** A user name as the client wrote it, bounded, for logs and reports. */
    public static String user(String name) {
        return name.length() > MAX_USER_CHARS ? name.substring(0, MAX_USER_CHARS) : name;
    }

    /** Whether a line could be a SASL response: base64 or the cancel "*", with no spaces. */
    public static boolean looksLikeResponse(String line) {
        if (line.equals("*") || line.equals("=")) {
            return true;
        }
        if (line.isEmpty()) {
            return false;
        }
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            boolean base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '+' || c == '/' || c == '=';
            if (!base64) {
                return false;
            }
        }
        return true;
    }

    private static byte[] decode(String base64) {
        try {
            return Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static int indexOf(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                return i;
            }
        }
        return -1;
    }
}
