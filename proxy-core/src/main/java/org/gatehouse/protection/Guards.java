package org.gatehouse.protection;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import org.gatehouse.rules.ProtectionStore;
import org.gatehouse.rules.Secret;
import org.gatehouse.rules.load.BoundedFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the gateway's {@link AccountGuard} from the rules: its state read back from stateDir, and the shared store if
 * the rules name one. The guard outlives reloads; a change of store takes a restart.
 */
public final class Guards {

    private static final Logger log = LoggerFactory.getLogger(Guards.class);

    private Guards() {
    }

    /** The guard for a gateway whose state lives in {@code stateDir}, sharing it through {@code store} if set. */
    public static AccountGuard start(Path stateDir, ProtectionStore store, MeterRegistry registry) {
        Fingerprints fingerprints = store.shared()
                ? Fingerprints.withKey(key(store.key().orElseThrow()))
                : Fingerprints.random();
        LocalState state = new LocalState(System::currentTimeMillis);
        Path file = stateDir.resolve(StateFile.FILE_NAME);
        try {
            StateFile.load(state, file);
        } catch (IOException | RuntimeException e) {
            log.warn("cannot read the account protection state {}; starting without it: {}", file, e.toString());
        }
        AccountGuard guard = new AccountGuard(state, fingerprints, System::currentTimeMillis, registry);
        Gauge.builder("gatehouse.protection.store.up", guard, g -> g.storeUp() ? 1 : 0)
                .description("1 while account protection's store answers (always, for the embedded store)")
                .register(registry);
        if (store.shared()) {
            RedisStore redis = new RedisStore(guard, store.redis().orElseThrow());
            guard.share(redis, store.failOpen());
            log.info("account protection shares its state store={} onFailure={}", describe(store),
                    store.failOpen() ? "open" : "closed");
        }
        return guard;
    }

    /** Saves what the guard holds to {@code stateDir} (the housekeeping calls it), dropping blocks that ran out. */
    public static void save(AccountGuard guard, Path stateDir) {
        guard.expire();
        Path file = stateDir.resolve(StateFile.FILE_NAME);
        try {
            StateFile.save(guard.state(), file);
        } catch (IOException | RuntimeException e) {
            log.warn("cannot save the account protection state {}: {}", file, e.toString());
        }
    }

    /** The blocks a saved state holds (for {@code gatehouse blocks} without a running gateway). */
    public static List<Block> savedBlocks(Path stateDir) throws IOException {
        return StateFile.blocks(stateDir.resolve(StateFile.FILE_NAME), System.currentTimeMillis());
    }

    /** The store's address without user or password. */
    static String describe(ProtectionStore store) {
        String uri = store.redis().orElse("embedded");
        return uri.replaceAll("//[^@/]*@", "//");
    }

    /** The fingerprints' key: SHA-256 of the secret, so any secret of 16 characters or more will do. */
    private static byte[] key(Secret secret) {
        byte[] raw;
        try {
            if (secret instanceof Secret.Environment env) {
                String value = System.getenv(env.variable());
                if (value == null) {
                    throw new IllegalStateException(secret.describe() + " is not set");
                }
                raw = value.getBytes(StandardCharsets.UTF_8);
            } else {
                // Bounded as the rules' passphrase files are.
                raw = new String(BoundedFile.read(((Secret.File) secret).path(), BoundedFile.MAX_SECRET_FILE,
                        "a fingerprint key file"), StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + secret.describe() + ": " + e.getMessage(), e);
        }
        if (raw.length < 16) {
            throw new IllegalStateException(secret.describe() + " holds " + raw.length
                    + " bytes (expected a fingerprint key of at least 16)");
        }
        try {
            return MessageDigest.getInstance("SHA-256").digest(raw);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }
}
