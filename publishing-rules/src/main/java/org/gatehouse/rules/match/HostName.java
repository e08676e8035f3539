package org.gatehouse.rules.match;

/** RFC 1123 host names, checked as text: a name is never looked up here. */
public final class HostName {

    private HostName() {
    }

    /** Whether {@code host} is dot-separated labels of letters, digits and inner hyphens, and not all digits. */
    public static boolean isValid(String host) {
        if (host.isEmpty() || host.length() > 253) {
            return false;
        }
        String[] labels = host.split("\\.", -1);
        boolean allNumeric = true;
        for (String label : labels) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
                if (!ok) {
                    return false;
                }
                if (!(c >= '0' && c <= '9')) {
                    allNumeric = false;
                }
            }
        }
        // "10.0.0.256" is a mistyped address, not a name.
        return !allNumeric;
    }
}
