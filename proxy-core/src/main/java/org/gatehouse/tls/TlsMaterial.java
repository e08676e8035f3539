package org.gatehouse.tls;

import static java.util.Objects.requireNonNull;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/** A private key and its certificate chain, leaf first, checked to belong together. */
record TlsMaterial(String name, PrivateKey key, List<X509Certificate> chain) {

    TlsMaterial {
        requireNonNull(name, "name");
        requireNonNull(key, "key");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("empty chain");
        }
    }

    X509Certificate leaf() {
        return chain.get(0);
    }
}
