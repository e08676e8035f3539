package org.gatehouse.acme;

import java.security.GeneralSecurityException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.gatehouse.tls.AlpnChallenges;

/**
 * The answers to the challenges in progress, written by the ACME client's thread and read by the listeners' event
 * loops: http-01 tokens with their key authorizations, and the tls-alpn-01 certificates by name (kept in
 * {@link AlpnChallenges}, which the TLS listeners read). Bounded by the orders in progress (a few names each).
 */
final class ChallengeResponses {

    private final Map<String, String> http01 = new ConcurrentHashMap<>();
    private final AlpnChallenges tlsAlpn01 = AlpnChallenges.shared();

    void putHttp01(String token, String keyAuthorization) {
        http01.put(token, keyAuthorization);
    }

    void removeHttp01(String token) {
        http01.remove(token);
    }

    /** Serves the RFC 8737 certificate to clients offering ALPN acme-tls/1 for {@code name}, on every TLS listener. */
    void putTlsAlpn01(String name, byte[] acmeValidation) throws GeneralSecurityException {
        tlsAlpn01.put(name, acmeValidation);
    }

    void removeTlsAlpn01(String name) {
        tlsAlpn01.remove(name);
    }

    Optional<String> http01(String token) {
        return Optional.ofNullable(http01.get(token));
    }
}
