package org.gatehouse.log;

/** Values for logfmt lines ({@code key=value key="value with spaces"}): quoted when needed, control characters blanked. */
public final class Logfmt {

    private Logfmt() {
    }

    public static String value(String value) {
        if (!needsQuotes(value)) {
            return value;
        }
        StringBuilder out = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                out.append(' ');
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    /** A loop, not a stream: every field of every access line passes here. */
    private static boolean needsQuotes(String value) {
        if (value.isEmpty()) {
            return true;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == ' ' || c == '"' || c == '=' || c < 0x20 || c == 0x7f) {
                return true;
            }
        }
        return false;
    }
}
