package org.gatehouse.tls;

import java.security.Provider;

/**
 * BouncyCastle's JCA provider, for what the JDK's cannot do: PKCS#12 files with the older encryptions Windows exports
 * still use (RC2, 3DES), and encrypted PEM private keys. It is made on first use and shared: an instance costs more
 * than a megabyte of heap for its algorithm tables, which a gateway with plain PEM files never needs.
 */
final class BouncyCastle {

    private BouncyCastle() {
    }

    static Provider provider() {
        return Holder.PROVIDER;
    }

    private static final class Holder {
        static final Provider PROVIDER = new org.bouncycastle.jce.provider.BouncyCastleProvider();
    }
}
