package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import org.gatehouse.rules.match.HostName;
import org.gatehouse.rules.match.IpLiteral;

/**
 * A host and a port as written in a rules file: {@code 127.0.0.1:110}, {@code [::1]:110} or {@code mail.internal:110}.
 * The host is an IP literal or a DNS name; it is never resolved here.
 */
public record HostPort(String host, int port) {

    public HostPort {
        requireNonNull(host, "host");
        if (host.isEmpty()) {
            throw new IllegalArgumentException("host is empty");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
        }
    }

    /**
     * Parses {@code host:port}; the message of the exception says what was expected.
     *
     * @param allowZero whether port 0 ("any free port") is accepted
     */
    public static HostPort parse(String text, boolean allowZero) {
        requireNonNull(text, "text");
        String host;
        String portText;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException('"' + text + "\" has no closing ']' (expected: [2001:db8::1]:110)");
            }
            host = text.substring(1, close);
            if (IpLiteral.parse(host).filter(b -> b.length == 16).isEmpty()) {
                throw new IllegalArgumentException(
                        '"' + text + "\" has no IPv6 address between [ and ] (expected: [2001:db8::1]:110)");
            }
            if (close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException('"' + text + "\" has no port (expected: [" + host + "]:PORT)");
            }
            portText = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException('"' + text + "\" has no port (expected: " + text + ":PORT)");
            }
            host = text.substring(0, colon);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException('"' + text
                        + "\" is ambiguous: write an IPv6 address in brackets (expected: [2001:db8::1]:110)");
            }
            portText = text.substring(colon + 1);
            if (!isHostName(host) && IpLiteral.parse(host).isEmpty()) {
                throw new IllegalArgumentException('"' + text + "\" has \"" + host
                        + "\" as its host, which is neither an IP address nor a host name");
            }
        }
        int port = parsePort(portText, text, allowZero);
        return new HostPort(host, port);
    }

    private static int parsePort(String portText, String text, boolean allowZero) {
        String range = allowZero ? "0-65535" : "1-65535";
        if (portText.isEmpty()) {
            throw new IllegalArgumentException('"' + text + "\" has no port (expected: HOST:PORT, PORT " + range + ")");
        }
        if (portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException(
                    '"' + text + "\" has port \"" + portText + "\" (expected: " + range + ")");
        }
        int port = Integer.parseInt(portText);
        if (port > 65535 || (port == 0 && !allowZero)) {
            throw new IllegalArgumentException('"' + text + "\" has port " + port + " (expected: " + range + ")");
        }
        return port;
    }

    /** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens (see {@link HostName}). */
    public static boolean isHostName(String host) {
        return HostName.isValid(host);
    }

    /** The host as an address if it is an IP literal. */
    public Optional<InetAddress> literalAddress() {
        return IpLiteral.toInetAddress(host);
    }

    /** An unresolved socket address for a name, a resolved one for a literal (no lookup either way). */
    public InetSocketAddress toSocketAddress() {
        return literalAddress()
                .map(a -> new InetSocketAddress(a, port))
                .orElseGet(() -> InetSocketAddress.createUnresolved(host, port));
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? '[' + host + "]:" + port : host + ':' + port;
    }
}
