package org.gatehouse.tls;

import java.util.ArrayList;

import java.util.List;
import org.gatehouse.rules.TlsPolicy;
import org.gatehouse.rules.TlsSettings;

/**
 * The protocol versions and cipher suites of each {@link TlsPolicy}, after Mozilla's server-side TLS profiles (without
 * their DHE suites: ECDHE only). Every suite is 128 bits or more; suites the engine does not know are left out.
 */
final class TlsPolicies {

    private static final List<String> TLS13 = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");

    private static final List<String> TLS12_AEAD = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    /** What "old" clients (Windows XP-era Outlook, old phones) need: CBC suites, and RSA key exchange last. */
    private static final List<String> LEGACY_EXTRA = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            "TLS_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_RSA_WITH_AES_128_CBC_SHA256",
            "TLS_RSA_WITH_AES_128_CBC_SHA",
            "TLS_RSA_WITH_AES_256_CBC_SHA");

    private TlsPolicies() {
    }

    static String[] protocols(TlsSettings tls) {
        if (!tls.protocols().isEmpty()) {
            return tls.protocols().toArray(String[]::new);
        }
        return switch (tls.policy()) {
            case MODERN -> new String[]{"TLSv1.3"};
            case INTERMEDIATE -> new String[]{"TLSv1.3", "TLSv1.2"};
            case LEGACY -> new String[]{"TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1"};
        };
    }

    /** In order of preference. */
    static List<String> ciphers(TlsSettings tls) {
        if (!tls.ciphers().isEmpty()) {
            return tls.ciphers();
        }
        return switch (tls.policy()) {
            case MODERN -> TLS13;
            case INTERMEDIATE -> concat(TLS13, TLS12_AEAD);
            case LEGACY -> concat(concat(TLS13, TLS12_AEAD), LEGACY_EXTRA);
        };
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return List.copyOf(out);
    }
}
