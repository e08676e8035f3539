package org.gatehouse.tls;

import java.util.List;

/**
 * The protocol versions and cipher suites every listener offers: TLS 1.2 and 1.3 only, AEAD ciphers with forward
 * secrecy only (Mozilla's "intermediate" server profile, without its DHE suites).
 */
final class TlsDefaults {

    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    /** In order of preference; suites the engine does not know are left out when the context is built. */
    static final List<String> CIPHERS = List.of(
            // TLS 1.3
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            // TLS 1.2: ECDHE key exchange, AEAD only
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private TlsDefaults() {
    }
}
