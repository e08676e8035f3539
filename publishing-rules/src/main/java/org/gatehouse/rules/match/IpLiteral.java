package org.gatehouse.rules.match;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Strict IPv4 and IPv6 literal parsing that never touches DNS.
 *
 * <p>{@link InetAddress#getByName} falls back to a name lookup for anything it cannot parse
 * ("10.0.0.256" becomes a DNS query), which a rules loader must never do.
 */
public final class IpLiteral {

    private IpLiteral() {
    }

    /** The 4 or 16 bytes of an IPv4 dotted quad or an IPv6 literal (without brackets or zone), or empty. */
    public static Optional<byte[]> parse(String text) {
        if (text.indexOf(':') >= 0) {
            return parseV6(text);
        }
        return parseV4(text);
    }

    /** Like {@link #parse} but as an {@link InetAddress}, still without any lookup. */
    public static Optional<InetAddress> toInetAddress(String text) {
        return parse(text).map(IpLiteral::fromBytes);
    }

    static InetAddress fromBytes(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("address of " + bytes.length + " bytes", e);
        }
    }

    static Optional<byte[]> parseV4(String text) {
        byte[] out = new byte[4];
        if (!parseV4Into(text, out, 0)) {
            return Optional.empty();
        }
        return Optional.of(out);
    }

    private static boolean parseV4Into(String text, byte[] out, int offset) {
        int part = 0;
        int value = 0;
        int digits = 0;
        for (int i = 0; i <= text.length(); i++) {
            char c = i < text.length() ? text.charAt(i) : '.';
            if (c == '.') {
                if (digits == 0 || part > 3) {
                    return false;
                }
                out[offset + part++] = (byte) value;
                value = 0;
                digits = 0;
            } else if (c >= '0' && c <= '9') {
                // A leading zero is refused: some tools read "010" as octal 8, others as decimal 10.
                if (digits == 1 && value == 0) {
                    return false;
                }
                value = value * 10 + (c - '0');
                if (++digits > 3 || value > 255) {
                    return false;
                }
            } else {
                return false;
            }
        }
        return part == 4;
    }

    static Optional<byte[]> parseV6(String text) {
        if (text.isEmpty() || text.indexOf('%') >= 0) {
            return Optional.empty();
        }
        byte[] out = new byte[16];
        int doubleColon = text.indexOf("::");
        if (doubleColon >= 0 && text.indexOf("::", doubleColon + 1) >= 0) {
            return Optional.empty();
        }
        String head = doubleColon >= 0 ? text.substring(0, doubleColon) : text;
        String tail = doubleColon >= 0 ? text.substring(doubleColon + 2) : "";
        int[] headGroups = groups(head, doubleColon < 0);
        int[] tailGroups = groups(tail, true);
        if (headGroups == null || tailGroups == null) {
            return Optional.empty();
        }
        // An embedded IPv4 tail (::ffff:192.0.2.1) counts as two groups.
        int embeddedV4 = -1;
        String last = doubleColon >= 0 ? tail : head;
        int lastColon = last.lastIndexOf(':');
        String lastPart = last.substring(lastColon + 1);
        if (lastPart.indexOf('.') >= 0) {
            embeddedV4 = 1;
        }
        int total = headGroups.length + tailGroups.length + (embeddedV4 > 0 ? 1 : 0);
        if (doubleColon < 0 ? total != 8 : total > 7) {
            return Optional.empty();
        }
        int pos = 0;
        for (int g : headGroups) {
            if (g < 0) {
                if (!parseV4Into(lastPart, out, pos)) {
                    return Optional.empty();
                }
                pos += 4;
            } else {
                out[pos++] = (byte) (g >>> 8);
                out[pos++] = (byte) g;
            }
        }
        int tailBytes = tailGroups.length * 2 + (embeddedV4 > 0 && doubleColon >= 0 ? 2 : 0);
        pos = 16 - tailBytes;
        for (int g : tailGroups) {
            if (g < 0) {
                if (!parseV4Into(lastPart, out, pos)) {
                    return Optional.empty();
                }
                pos += 4;
            } else {
                out[pos++] = (byte) (g >>> 8);
                out[pos++] = (byte) g;
            }
        }
        return Optional.of(out);
    }

    /**
     * The 16-bit groups of one side of a "::", -1 standing for an embedded IPv4 part (allowed only last
     * on the right-hand side), or null if malformed.
     */
    private static int[] groups(String side, boolean mayEndWithV4) {
        if (side.isEmpty()) {
            return new int[0];
        }
        String[] parts = side.split(":", -1);
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.indexOf('.') >= 0) {
                if (i != parts.length - 1 || !mayEndWithV4) {
                    return null;
                }
                out[i] = -1;
                continue;
            }
            if (p.isEmpty() || p.length() > 4) {
                return null;
            }
            int v = 0;
            for (int j = 0; j < p.length(); j++) {
                int d = Character.digit(p.charAt(j), 16);
                if (d < 0) {
                    return null;
                }
                v = (v << 4) | d;
            }
            out[i] = v;
        }
        return out;
    }
}
