package org.gatehouse.rules.match;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * One entry of an address list: a single address, a CIDR block ({@code 10.0.0.0/8}, {@code 2001:db8::/32})
 * or an address with a dotted netmask ({@code 131.107.2.0/255.255.255.0}, the form Windows administrators know).
 */
public final class AddressBlock {

    private final byte[] network;
    private final int prefixLength;

    private AddressBlock(byte[] network, int prefixLength) {
        this.network = network;
        this.prefixLength = prefixLength;
    }

    /** Parses one entry; the exception message says what was expected. */
    public static AddressBlock parse(String text) {
        requireNonNull(text, "text");
        String trimmed = text.trim();
        int slash = trimmed.indexOf('/');
        String addressPart = slash < 0 ? trimmed : trimmed.substring(0, slash);
        byte[] address = IpLiteral.parse(addressPart).orElseThrow(() -> notAnAddress(text));
        int bits = address.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String maskPart = trimmed.substring(slash + 1);
            prefix = parsePrefix(maskPart, address.length, text);
        }
        if (!hostBitsZero(address, prefix)) {
            byte[] masked = mask(address, prefix);
            throw new IllegalArgumentException('"' + text + "\" has bits set after the /" + prefix
                    + " prefix (expected the network address, such as "
                    + IpLiteral.fromBytes(masked).getHostAddress() + '/' + prefix + ')');
        }
        return new AddressBlock(address, prefix);
    }

    private static int parsePrefix(String maskPart, int addressLength, String original) {
        if (!maskPart.isEmpty() && maskPart.chars().allMatch(c -> c >= '0' && c <= '9') && maskPart.length() <= 3) {
            int prefix = Integer.parseInt(maskPart);
            if (prefix > addressLength * 8) {
                throw notAnAddress(original);
            }
            return prefix;
        }
        if (addressLength == 4) {
            byte[] mask = IpLiteral.parseV4(maskPart).orElseThrow(() -> notAnAddress(original));
            int prefix = 0;
            while (prefix < 32 && bit(mask, prefix)) {
                prefix++;
            }
            for (int i = prefix; i < 32; i++) {
                if (bit(mask, i)) {
                    throw new IllegalArgumentException('"' + original
                            + "\" has a netmask whose one-bits are not contiguous (expected a mask such as 255.255.255.0)");
                }
            }
            return prefix;
        }
        throw notAnAddress(original);
    }

    private static IllegalArgumentException notAnAddress(String text) {
        return new IllegalArgumentException(
                '"' + text + "\" is not an address or CIDR (expected: 192.0.2.7, 10.0.0.0/8, "
                        + "131.107.2.0/255.255.255.0 or 2001:db8::/32)");
    }

    private static boolean bit(byte[] bytes, int index) {
        return (bytes[index >>> 3] & (0x80 >>> (index & 7))) != 0;
    }

    private static boolean hostBitsZero(byte[] address, int prefix) {
        for (int i = prefix; i < address.length * 8; i++) {
            if (bit(address, i)) {
                return false;
            }
        }
        return true;
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] out = address.clone();
        for (int i = prefix; i < out.length * 8; i++) {
            out[i >>> 3] &= (byte) ~(0x80 >>> (i & 7));
        }
        return out;
    }

    public boolean isIpv4() {
        return network.length == 4;
    }

    public int prefixLength() {
        return prefixLength;
    }

    /** The first address of the block. */
    byte[] first() {
        return network.clone();
    }

    /** The last address of the block. */
    byte[] last() {
        byte[] out = network.clone();
        for (int i = prefixLength; i < out.length * 8; i++) {
            out[i >>> 3] |= (byte) (0x80 >>> (i & 7));
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AddressBlock other && prefixLength == other.prefixLength
                && Arrays.equals(network, other.network);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(network) + prefixLength;
    }

    /** Canonical form: {@code 131.107.2.0/24}, {@code 192.0.2.7}, {@code 2001:db8:0:0:0:0:0:0/32}. */
    @Override
    public String toString() {
        String host = IpLiteral.fromBytes(network).getHostAddress();
        return prefixLength == network.length * 8 ? host : host + '/' + prefixLength;
    }
}
