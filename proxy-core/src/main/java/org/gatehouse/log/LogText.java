package org.gatehouse.log;

/**
 * Text a client chose (a user name, an SNI name, a PTR name, a certificate subject), made safe to write in a log line or
 * a report: every character that could end a line, move the cursor, switch colours or reorder what a reader sees
 * (controls, DEL, C1 controls, Unicode format and separator characters such as the bidi overrides) is written as an
 * escape, a backslash is doubled so that escapes cannot be faked, and the result is capped in length.
 */
public final class LogText {

    /** The longest value written, in characters, before the {@code ...} that says it was cut. */
    public static final int MAX_CHARS = 256;

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private LogText() {
    }

    public static String clean(String text) {
        return clean(text, MAX_CHARS);
    }

    public static String clean(String text, int maxChars) {
        StringBuilder out = null;
        int limit = Math.min(text.length(), maxChars);
        for (int i = 0; i < limit; i++) {
            char c = text.charAt(i);
            boolean plain = c != '\\' && !unsafe(c);
            if (plain && out == null) {
                continue;
            }
            if (out == null) {
                out = new StringBuilder(limit + 16).append(text, 0, i);
            }
            if (plain) {
                out.append(c);
            } else if (c == '\\') {
                out.append("\\\\");
            } else if (c < 0x100) {
                out.append("\\x").append(HEX[c >> 4]).append(HEX[c & 0xf]);
            } else {
                out.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 0xf]).append(HEX[(c >> 4) & 0xf])
                        .append(HEX[c & 0xf]);
            }
        }
        if (text.length() > maxChars) {
            return (out == null ? text.substring(0, limit) : out.toString()) + "...";
        }
        return out == null ? text : out.toString();
    }

    private static boolean unsafe(char c) {
        if (c < 0x20 || c == 0x7f) {
            return true;
        }
        if (c < 0x80) {
            return false;
        }
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED ->
                true;
            default -> false;
        };
    }
}
