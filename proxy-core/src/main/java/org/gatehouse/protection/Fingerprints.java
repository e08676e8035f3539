package org.gatehouse.protection;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Tells "the same wrong password again" from "another one" without keeping a password: a keyed MAC (HMAC-SHA-256) of
 * the user and the password, cut to 64 bits. The key is random per process, or, for a store that replicas share, read
 * from the rules' secret. A fingerprint is held in memory (or in the shared store) for the window only; it is never
 * logged, reported or written to a file, and without the key it says nothing about the password.
 */
public final class Fingerprints {

    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs;

    private Fingerprints(byte[] key) {
        this.key = new SecretKeySpec(key, "HmacSHA256");
        this.macs = ThreadLocal.withInitial(this::newMac);
        Arrays.fill(key, (byte) 0);
    }

    /** A key of 32 random bytes, for this process only. */
    public static Fingerprints random() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return new Fingerprints(key);
    }

    /** A key every replica shares (at least 16 bytes). */
    public static Fingerprints withKey(byte[] key) {
        if (key.length < 16) {
            throw new IllegalArgumentException("a fingerprint key of " + key.length + " bytes (expected at least 16)");
        }
        return new Fingerprints(key.clone());
    }

    /** The fingerprint of {@code password} tried for {@code user}. */
    public long of(String user, byte[] password) {
        Mac mac = macs.get();
        mac.update(user.getBytes(StandardCharsets.UTF_8));
        mac.update((byte) 0);
        mac.update(password);
        byte[] digest = mac.doFinal();
        long fp = 0;
        for (int i = 0; i < 8; i++) {
            fp = (fp << 8) | (digest[i] & 0xff);
        }
        Arrays.fill(digest, (byte) 0);
        return fp;
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }
}
