package org.gatehouse.acme;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The answers to the challenges in progress, written by the ACME client's thread and read by the listeners' event
 * loops: http-01 tokens with their key authorizations. Bounded by the orders in progress (a few names each).
 */
final class ChallengeResponses {

    private final Map<String, String> http01 = new ConcurrentHashMap<>();

    void putHttp01(String token, String keyAuthorization) {
        http01.put(token, keyAuthorization);
    }

    void removeHttp01(String token) {
        http01.remove(token);
    }

    Optional<String> http01(String token) {
        return Optional.ofNullable(http01.get(token));
    }
}
