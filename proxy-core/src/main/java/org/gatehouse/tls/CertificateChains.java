package org.gatehouse.tls;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * What is wrong with the order or the completeness of a certificate chain, said so that the operator can fix the file:
 * the key's certificate not first, a pair out of order (with the order that works), or an intermediate missing (with
 * the issuer expected).
 */
final class CertificateChains {

    private CertificateChains() {
    }

    /**
     * When {@code key} does not belong to the first certificate but to another one in the file: the chain is out of
     * order, not the key wrong.
     */
    static Optional<String> keyBelongsElsewhere(PrivateKey key, List<X509Certificate> chain, String certificate) {
        for (int i = 1; i < chain.size(); i++) {
            if (PemFiles.matches(key, chain.get(i).getPublicKey())) {
                return Optional.of("the chain of " + certificate + " is out of order: the private key belongs to"
                        + " certificate " + (i + 1) + " (" + subject(chain.get(i)) + "), not to certificate 1 ("
                        + subject(chain.get(0)) + "); expected the server certificate first, then the CA that issued"
                        + " it, and so on" + order(chain, i));
            }
        }
        return Optional.empty();
    }

    /** The order that would work, starting at the server certificate {@code leaf}, as a hint; empty if there is none. */
    static String order(List<X509Certificate> chain, int leaf) {
        List<Integer> order = new ArrayList<>(List.of(leaf));
        X509Certificate current = chain.get(leaf);
        while (order.size() < chain.size()) {
            int next = -1;
            for (int j = 0; j < chain.size() && next < 0; j++) {
                if (!order.contains(j) && signed(current, chain.get(j))) {
                    next = j;
                }
            }
            if (next < 0) {
                break;
            }
            order.add(next);
            current = chain.get(next);
        }
        if (order.size() < 2) {
            return "";
        }
        return " (here: certificates " + String.join(", ", order.stream().map(i -> Integer.toString(i + 1)).toList())
                + (order.size() < chain.size() ? ", and leave out the others" : "") + ")";
    }

    /**
     * A warning when the last certificate of the chain is neither self-signed nor issued by a CA this machine trusts:
     * an intermediate is most likely missing, and clients that do not have it will reject the server.
     */
    static Optional<String> missingIssuer(List<X509Certificate> chain) {
        X509Certificate last = chain.get(chain.size() - 1);
        if (signed(last, last) || trustedIssuer(last)) {
            return Optional.empty();
        }
        return Optional.of("the chain ends with certificate " + chain.size() + " (" + subject(last) + "), issued by "
                + last.getIssuerX500Principal().getName() + ", which is neither in the file nor a CA this machine"
                + " trusts: an intermediate is probably missing, and clients that do not have it will reject the"
                + " certificate (expected: the certificate of " + last.getIssuerX500Principal().getName()
                + " after it, as the CA sent it; a private CA whose root clients trust may ignore this)");
    }

    /** Whether {@code issuer} issued and signed {@code cert}. */
    static boolean signed(X509Certificate cert, X509Certificate issuer) {
        if (!cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
            return false;
        }
        try {
            cert.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static boolean trustedIssuer(X509Certificate cert) {
        for (X509Certificate root : TrustedRoots.ROOTS) {
            if (signed(cert, root)) {
                return true;
            }
        }
        return false;
    }

    static String subject(X509Certificate cert) {
        return cert.getSubjectX500Principal().getName();
    }

    /** The JDK's default trust store (on Debian, the system's CA certificates), read once. */
    private static final class TrustedRoots {
        static final List<X509Certificate> ROOTS = load();

        private static List<X509Certificate> load() {
            try {
                TrustManagerFactory factory = TrustManagerFactory
                        .getInstance(TrustManagerFactory.getDefaultAlgorithm());
                factory.init((KeyStore) null);
                for (var manager : factory.getTrustManagers()) {
                    if (manager instanceof X509TrustManager x509) {
                        return List.of(x509.getAcceptedIssuers());
                    }
                }
            } catch (GeneralSecurityException e) {
                // no trust store: every chain not ending at a self-signed root gets the warning
            }
            return List.of();
        }
    }
}
