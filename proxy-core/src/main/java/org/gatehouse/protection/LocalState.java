package org.gatehouse.protection;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.gatehouse.rules.ProtectionSettings;

/**
 * The counters, fingerprints, familiar addresses and blocks of this process, each in a Caffeine cache bounded in size
 * and dropped when unused. Every counter runs for its rule's window from its first failure (a fixed window, as
 * Active Directory's observation window), judged against the clock it is given, so tests can move time.
 * Thread-safe: logins of every event loop update it.
 */
final class LocalState {

    /** The most addresses, and users, with counters; the most users with familiar addresses; the most blocks. */
    static final int MAX_ADDRESSES = 100_000;
    static final int MAX_USERS = 100_000;
    static final int MAX_BLOCKS = 100_000;
    /** Fingerprints of recent wrong passwords kept per user. */
    static final int FINGERPRINTS_PER_USER = 8;

    /** An address's failures in its window, a repeated wrong password weighing a quarter. */
    static final class AddressScore {
        int quarters;
        final LinkedHashSet<String> users = new LinkedHashSet<>();
        long expires;
    }

    /** A user's failures from unfamiliar addresses in its window, with those in flight, and recent fingerprints. */
    static final class UserScore {
        int unfamiliar;
        long expires;
        final long[] fingerprints = new long[FINGERPRINTS_PER_USER];
        final long[] fingerprintExpires = new long[FINGERPRINTS_PER_USER];
        int next;
    }

    private final LongSupplier clock;
    final Cache<String, AddressScore> addresses;
    final Cache<String, UserScore> users;
    /** User → familiar network → last successful login (epoch ms), in insertion order. */
    final Cache<String, LinkedHashMap<String, Long>> familiar;
    final Cache<String, Block> blocks;

    LocalState(LongSupplier clock) {
        this.clock = clock;
        Ticker ticker = () -> TimeUnit.MILLISECONDS.toNanos(clock.getAsLong());
        this.addresses = Caffeine.newBuilder().maximumSize(MAX_ADDRESSES).expireAfterAccess(Duration.ofDays(1))
                .ticker(ticker).executor(Runnable::run).build();
        this.users = Caffeine.newBuilder().maximumSize(MAX_USERS).expireAfterAccess(Duration.ofDays(1))
                .ticker(ticker).executor(Runnable::run).build();
        this.familiar = Caffeine.newBuilder().maximumSize(MAX_USERS).expireAfterAccess(Duration.ofDays(400))
                .ticker(ticker).executor(Runnable::run).build();
        this.blocks = Caffeine.newBuilder().maximumSize(MAX_BLOCKS).expireAfterWrite(Duration.ofDays(8))
                .ticker(ticker).executor(Runnable::run).build();
    }

    long now() {
        return clock.getAsLong();
    }

    /** The score of {@code address} after one more failure for {@code user}: [quarters, distinct users]. */
    int[] addressFailure(String address, String user, boolean repeat, ProtectionSettings s, long now) {
        int[] result = new int[2];
        addresses.asMap().compute(address, (a, score) -> {
            AddressScore sc = score == null || now >= score.expires ? fresh(s, now) : score;
            synchronized (sc) { // the state file reads it from another thread
                sc.quarters += repeat ? 1 : 4;
                if (!user.isEmpty() && sc.users.size() <= s.addressUsers()) {
                    sc.users.add(user);
                }
                result[0] = sc.quarters;
                result[1] = sc.users.size();
            }
            return sc;
        });
        return result;
    }

    private static AddressScore fresh(ProtectionSettings s, long now) {
        AddressScore sc = new AddressScore();
        sc.expires = now + s.window().toMillis();
        return sc;
    }

    /** Takes one of {@code user}'s unfamiliar attempts; the count after, or -1 (nothing taken) when none is left. */
    int reserve(String user, ProtectionSettings s, long now) {
        int[] count = {-1};
        users.asMap().compute(user, (u, score) -> {
            UserScore sc = score == null ? new UserScore() : score;
            if (now >= sc.expires) {
                sc.unfamiliar = 0;
                sc.expires = now + s.window().toMillis();
            }
            if (sc.unfamiliar < s.unfamiliarFailures()) {
                count[0] = ++sc.unfamiliar;
            }
            return sc;
        });
        return count[0];
    }

    /** Gives back an unfamiliar attempt that did not fail (a success, a temporary failure). */
    void release(String user) {
        users.asMap().computeIfPresent(user, (u, sc) -> {
            sc.unfamiliar = Math.max(0, sc.unfamiliar - 1);
            return sc;
        });
    }

    /** Failures for {@code user} from unfamiliar addresses now (in flight included). */
    int unfamiliar(String user, long now) {
        UserScore sc = users.getIfPresent(user);
        return sc == null || now >= sc.expires ? 0 : sc.unfamiliar;
    }

    /** Whether {@code fingerprint} failed for {@code user} within the window; remembers it either way. */
    boolean repeated(String user, long fingerprint, ProtectionSettings s, long now) {
        boolean[] seen = {false};
        users.asMap().compute(user, (u, score) -> {
            UserScore sc = score == null ? new UserScore() : score;
            for (int i = 0; i < FINGERPRINTS_PER_USER; i++) {
                if (sc.fingerprints[i] == fingerprint && now < sc.fingerprintExpires[i]) {
                    seen[0] = true;
                    sc.fingerprintExpires[i] = now + s.window().toMillis();
                    return sc;
                }
            }
            int slot = sc.next;
            sc.next = (sc.next + 1) % FINGERPRINTS_PER_USER;
            sc.fingerprints[slot] = fingerprint;
            sc.fingerprintExpires[slot] = now + s.window().toMillis();
            return sc;
        });
        return seen[0];
    }

    boolean familiar(String user, String network, long now, Duration familiarFor) {
        LinkedHashMap<String, Long> nets = familiar.getIfPresent(user);
        if (nets == null) {
            return false;
        }
        synchronized (nets) {
            Long last = nets.get(network);
            return last != null && now - last < familiarFor.toMillis();
        }
    }

    /** Remembers a successful login of {@code user} from {@code network}, forgetting the oldest beyond the bound. */
    void remember(String user, String network, int perUser, long when) {
        LinkedHashMap<String, Long> nets = familiar.get(user, u -> new LinkedHashMap<>());
        synchronized (nets) {
            nets.remove(network);
            nets.put(network, when);
            while (nets.size() > perUser) {
                nets.remove(nets.keySet().iterator().next());
            }
        }
    }

    /** The familiar networks of a user with their last success, oldest first. */
    Map<String, Long> familiarOf(String user) {
        LinkedHashMap<String, Long> nets = familiar.getIfPresent(user);
        if (nets == null) {
            return Map.of();
        }
        synchronized (nets) {
            return new LinkedHashMap<>(nets);
        }
    }

    Optional<Block> block(Block.Kind kind, String key, long now) {
        Block b = blocks.getIfPresent(Block.id(kind, key));
        return b != null && b.activeAt(now) ? Optional.of(b) : Optional.empty();
    }

    /** Every block in force, oldest first. */
    List<Block> activeBlocks(long now) {
        List<Block> list = new ArrayList<>();
        for (Block b : blocks.asMap().values()) {
            if (b.activeAt(now)) {
                list.add(b);
            }
        }
        list.sort((a, b) -> Long.compare(a.created(), b.created()));
        return list;
    }

    /** Forgets the counters a block was set off by, so that an unblocked address or user starts afresh. */
    void reset(Block.Kind kind, String key) {
        if (kind == Block.Kind.ADDRESS) {
            addresses.invalidate(key);
        } else {
            users.asMap().computeIfPresent(key, (u, sc) -> {
                sc.unfamiliar = 0;
                return sc;
            });
        }
    }
}
