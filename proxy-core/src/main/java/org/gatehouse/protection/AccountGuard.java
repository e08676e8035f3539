package org.gatehouse.protection;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.gatehouse.rules.ProtectionSettings;
import org.gatehouse.rules.ProtectionSettings.Mode;

/**
 * Decides, for each login, whether it may reach the backend, and what its result costs the client: the account
 * protection of docs/account-protection.md.
 *
 * <ul>
 *   <li>A failure ({@link LoginResult#BAD_CREDENTIALS} only) adds to its address's score: a whole failure, or a
 *       quarter when the same wrong password failed for the same user within the window (a stale phone; Dovecot's
 *       auth_penalty does not count it at all). Its reply is held {@code tarpit.initialDelay} doubled per failure of
 *       the address, at most {@code tarpit.maxDelay} (Dovecot's auth_penalty: 2 s, doubling, 15 s).</li>
 *   <li>{@code addressFailures} failures, or failures for {@code addressUsers} distinct users (spraying), within the
 *       window block the address for {@code blockDuration}: refused before TLS, and its connection closed.</li>
 *   <li>A user's attempts from addresses it never logged in from (Azure AD smart lockout's unfamiliar locations) are
 *       counted apart, those in flight included: at {@code lockoutThreshold - 2} of them the user is blocked for
 *       unfamiliar addresses, so that many addresses trying one user never reach the backend's own lockout. Its
 *       familiar addresses (the last {@code familiarAddresses.perUser} it logged in from) keep working.</li>
 *   <li>Temporary failures and other refusals never count; exempt clients are never counted; in {@code report} mode
 *       everything is counted and logged, and nothing delayed or refused.</li>
 * </ul>
 */
public final class AccountGuard implements AutoCloseable {

    /** Failure replies held at once, over every connection; beyond it a reply goes at once and the connection ends. */
    public static final int MAX_TARPITTED = 10_000;

    private final LocalState state;
    private final Fingerprints fingerprints;
    private final LongSupplier clock;
    private final ProtectionMeters meters;
    private final ProtectionLog log = new ProtectionLog();
    private final AtomicInteger tarpitted = new AtomicInteger();
    private volatile SharedStore shared;
    private volatile boolean failOpen = true;

    AccountGuard(LocalState state, Fingerprints fingerprints, LongSupplier clock, MeterRegistry registry) {
        this.state = requireNonNull(state, "state");
        this.fingerprints = requireNonNull(fingerprints, "fingerprints");
        this.clock = requireNonNull(clock, "clock");
        this.meters = new ProtectionMeters(registry, tarpitted,
                kind -> state.activeBlocks(clock.getAsLong()).stream().filter(b -> b.kind() == kind).count());
    }

    /** A guard with its state in this process only, on the system clock. */
    public static AccountGuard inMemory(MeterRegistry registry) {
        return new AccountGuard(new LocalState(System::currentTimeMillis), Fingerprints.random(),
                System::currentTimeMillis, registry);
    }

    /** A guard on {@code clock}, for tests that move time. */
    public static AccountGuard withClock(LongSupplier clock, MeterRegistry registry) {
        return new AccountGuard(new LocalState(clock), Fingerprints.random(), clock, registry);
    }

    LocalState state() {
        return state;
    }

    ProtectionLog log() {
        return log;
    }

    ProtectionMeters meters() {
        return meters;
    }

    /** Shares counts and blocks through {@code store} from now on. */
    void share(SharedStore store, boolean failOpenWhenDown) {
        this.shared = store;
        this.failOpen = failOpenWhenDown;
    }

    // ---- at accept ----------------------------------------------------------------------------------------------

    /** Whether a new connection from {@code client} is refused before TLS: its address is blocked. */
    public boolean refusesConnection(ProtectionSettings s, String rule, InetAddress client) {
        if (!s.enabled() || s.exempt().addresses().contains(client.getAddress())) {
            return false;
        }
        Optional<Block> block = state.block(Block.Kind.ADDRESS, NetUtil.toAddressString(client), clock.getAsLong());
        if (block.isEmpty()) {
            return false;
        }
        if (s.mode() == Mode.REPORT) {
            meters.reported(rule, "refuse-connection");
            return false;
        }
        meters.refused(rule, "address-blocked");
        return true;
    }

    // ---- at login ------------------------------------------------------------------------------------------------

    /**
     * A login is about to be forwarded: whether it may be, and the attempt to settle with the backend's reply.
     *
     * @param user   the user name as the client sent it (empty when the mechanism does not say)
     * @param method the command and mechanism in the gateway's words, for the log
     */
    public Attempt begin(ProtectionSettings s, String rule, InetAddress client, String user, String method) {
        if (!s.enabled()) {
            return Attempt.UNTRACKED;
        }
        String address = NetUtil.toAddressString(client);
        String key = Users.key(user);
        if (s.exempt().addresses().contains(client.getAddress())) {
            return new Attempt(this, s, rule, address, network(client, address), key, method, Attempt.Kind.EXEMPT);
        }
        long now = clock.getAsLong();
        String refusal = refusal(s, address, key, client, now);
        if (refusal != null) {
            if (s.mode() == Mode.REPORT) {
                meters.reported(rule, "refuse-login");
                log.wouldRefuse(rule, address, key, method, refusal);
            } else {
                return refuse(s, rule, address, key, method, refusal, now);
            }
        }
        String network = network(client, address);
        if (key.isEmpty() || state.familiar(key, network, now, s.familiarFor())) {
            return new Attempt(this, s, rule, address, network, key, method, Attempt.Kind.FAMILIAR);
        }
        int taken = state.reserve(key, s, now);
        if (taken < 0) {
            // Only in report mode, or attempts raced past the check: enforce refuses, report counts.
            if (s.mode() == Mode.ENFORCE) {
                return refuse(s, rule, address, key, method, "user-blocked", now);
            }
            return new Attempt(this, s, rule, address, network, key, method, Attempt.Kind.FAMILIAR);
        }
        return new Attempt(this, s, rule, address, network, key, method, Attempt.Kind.UNFAMILIAR);
    }

    /**
     * Refuses a login. One refused for its user counts against its address as a failure would (an address trying
     * users under attack is spraying too), without a delay: the connection closes.
     */
    private Attempt refuse(ProtectionSettings s, String rule, String address, String user, String method,
            String reason, long now) {
        meters.refused(rule, reason);
        meters.login(rule, LoginResult.REFUSED);
        log.refused(rule, address, user, method, reason);
        if (reason.equals("user-blocked")) {
            int[] score = state.addressFailure(address, user, false, s, now);
            judgeAddress(new Attempt(this, s, rule, address, address, user, method, Attempt.Kind.FAMILIAR), score[0],
                    score[1], now);
        }
        return Attempt.refused(reason);
    }

    /** Why a login is refused now, or null: the address is blocked, the user is blocked here, the store is down. */
    private String refusal(ProtectionSettings s, String address, String key, InetAddress client, long now) {
        if (state.block(Block.Kind.ADDRESS, address, now).isPresent()) {
            return "address-blocked";
        }
        SharedStore store = shared;
        if (store != null && !failOpen && !store.up()) {
            return "store-unavailable";
        }
        if (!key.isEmpty() && state.block(Block.Kind.USER, key, now).isPresent()
                && !state.familiar(key, network(client, address), now, s.familiarFor())) {
            return "user-blocked";
        }
        return null;
    }

    /**
     * Where a user's logins are familiar from: the address (IPv4), or its /64 (IPv6, where a host has many).
     *
     * @param address {@code client} as {@link NetUtil#toAddressString(InetAddress)} writes it
     */
    static String network(InetAddress client, String address) {
        if (client instanceof Inet6Address v6 && !v6.isLoopbackAddress()) {
            byte[] b = v6.getAddress();
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < 8; i += 2) {
                s.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff))).append(':');
            }
            return s.append(":/64").toString();
        }
        return address; // NetUtil.toAddressString(client), made once per login by the caller
    }

    // ---- settling (called by Attempt) ---------------------------------------------------------------------------

    Settlement settle(Attempt a, LoginResult result, byte[] password) {
        meters.login(a.rule, result);
        if (a.kind == Attempt.Kind.EXEMPT) {
            log.result(a, result, false, 0, 0);
            if (result == LoginResult.SUCCESS) {
                state.remember(a.user, a.network, a.settings.familiarPerUser(), clock.getAsLong());
            }
            return Settlement.NOW;
        }
        if (result != LoginResult.BAD_CREDENTIALS) {
            if (a.kind == Attempt.Kind.UNFAMILIAR) {
                state.release(a.user);
            }
            if (result == LoginResult.SUCCESS && !a.user.isEmpty()) {
                state.remember(a.user, a.network, a.settings.familiarPerUser(), clock.getAsLong());
                SharedStore store = shared;
                if (store != null) {
                    store.success(a.user, a.network, a.settings);
                }
            }
            log.result(a, result, false, 0, 0);
            return Settlement.NOW;
        }
        return failed(a, password);
    }

    private Settlement failed(Attempt a, byte[] password) {
        ProtectionSettings s = a.settings;
        long now = clock.getAsLong();
        // A block that ran out ends here if the housekeeping has not come by yet: its counts start again, as they
        // would have after the housekeeping's expiry, rather than setting the next block off at the first failure.
        expireIfRunOut(Block.Kind.ADDRESS, a.address, now);
        if (!a.user.isEmpty()) {
            expireIfRunOut(Block.Kind.USER, a.user, now);
        }
        long fingerprint = password == null || a.user.isEmpty() ? 0 : fingerprints.of(a.user, password);
        boolean repeat = fingerprint != 0 && state.repeated(a.user, fingerprint, s, now);
        int[] score = state.addressFailure(a.address, a.user, repeat, s, now);
        int failures = (score[0] + 3) / 4;
        boolean blocked = judgeAddress(a, score[0], score[1], now);
        if (a.kind == Attempt.Kind.UNFAMILIAR && state.unfamiliar(a.user, now) >= s.unfamiliarFailures()) {
            blockUser(a, now);
        }
        SharedStore store = shared;
        if (store != null) {
            store.failure(a.address, a.user, fingerprint, a.kind == Attempt.Kind.UNFAMILIAR, s,
                    counts -> sharedCounts(a, counts));
        }
        long delay = s.mode() == Mode.ENFORCE ? delay(s, failures) : 0;
        log.result(a, LoginResult.BAD_CREDENTIALS, repeat, failures, delay);
        return new Settlement(delay, blocked && s.mode() == Mode.ENFORCE);
    }

    /** Dovecot's auth_penalty curve: the initial delay, doubled per failure, capped. */
    static long delay(ProtectionSettings s, int failures) {
        long initial = s.tarpitInitial().toMillis();
        long max = s.tarpitMax().toMillis();
        if (initial == 0 || failures <= 0) {
            return 0;
        }
        int shift = Math.min(failures - 1, 20);
        return Math.min(max, initial << shift);
    }

    private boolean judgeAddress(Attempt a, int quarters, int users, long now) {
        ProtectionSettings s = a.settings;
        String reason = users >= s.addressUsers() && users > 1
                ? "distinct-users"
                : quarters >= s.addressFailures() * 4 ? "failures" : null;
        if (reason == null) {
            return false;
        }
        set(new Block(Block.Kind.ADDRESS, a.address, a.rule, reason, now, now + s.blockDuration().toMillis()), s,
                a.address);
        return true;
    }

    private void blockUser(Attempt a, long now) {
        ProtectionSettings s = a.settings;
        set(new Block(Block.Kind.USER, a.user, a.rule, "unfamiliar-failures", now,
                now + s.blockDuration().toMillis()), s, a.address);
    }

    /** The counts across replicas: a block that this replica's own counts did not set off yet. */
    private void sharedCounts(Attempt a, SharedStore.Counts counts) {
        long now = clock.getAsLong();
        ProtectionSettings s = a.settings;
        if (state.block(Block.Kind.ADDRESS, a.address, now).isEmpty()) {
            judgeAddress(a, counts.quarters(), counts.users(), now);
        }
        if (counts.unfamiliar() >= s.unfamiliarFailures() && !a.user.isEmpty()
                && state.block(Block.Kind.USER, a.user, now).isEmpty()) {
            blockUser(a, now);
        }
    }

    /** Sets a block (enforce), or logs and counts what enforce would do (report). */
    private void set(Block block, ProtectionSettings s, String client) {
        if (s.mode() == Mode.REPORT) {
            meters.reported(block.rule(), "block-" + block.kind().label());
            log.wouldBlock(block, client);
            return;
        }
        Block old = state.blocks.asMap().putIfAbsent(block.id(), block);
        if (old != null && old.activeAt(block.created())) {
            return;
        }
        if (old != null) {
            state.blocks.put(block.id(), block);
        }
        meters.block(block.rule(), block.kind(), block.reason());
        log.blocked(block, client, s.blockDuration().toSeconds());
        SharedStore store = shared;
        if (store != null) {
            store.publish(block);
        }
    }

    // ---- the tarpit's bound -------------------------------------------------------------------------------------

    /** Takes a place for a held reply; false when {@link #MAX_TARPITTED} are held (then send it now, and close). */
    public boolean holdReply(String rule) {
        if (tarpitted.incrementAndGet() > MAX_TARPITTED) {
            tarpitted.decrementAndGet();
            meters.tarpitFull(rule);
            return false;
        }
        meters.tarpitted(rule);
        return true;
    }

    public void replyReleased() {
        tarpitted.decrementAndGet();
    }

    // ---- the operator's view ------------------------------------------------------------------------------------

    /** Every block in force, oldest first. */
    public List<Block> blocks() {
        return state.activeBlocks(clock.getAsLong());
    }

    /**
     * Lifts a block by hand, and forgets the counts that set it off.
     *
     * @param key an address, or a user name as the block lists it
     * @return whether there was one
     */
    public boolean unblock(Block.Kind kind, String key, String by) {
        String k = kind == Block.Kind.USER ? Users.key(key) : key;
        Block removed = state.blocks.asMap().remove(Block.id(kind, k));
        state.reset(kind, k);
        SharedStore store = shared;
        if (store != null) {
            store.unblock(kind, k);
        }
        boolean active = removed != null && removed.activeAt(clock.getAsLong());
        if (active) {
            log.unblocked(removed, by);
        }
        return active;
    }

    private void expireIfRunOut(Block.Kind kind, String key, long now) {
        Block b = state.blocks.getIfPresent(Block.id(kind, key));
        if (b != null && !b.activeAt(now) && state.blocks.asMap().remove(b.id(), b)) {
            state.reset(kind, key);
            log.unblocked(b, "expiry");
        }
    }

    /** Drops the blocks that ran out, with an unblock line each (the housekeeping calls it). */
    public void expire() {
        long now = clock.getAsLong();
        for (Block b : state.blocks.asMap().values()) {
            if (!b.activeAt(now) && state.blocks.asMap().remove(b.id(), b)) {
                state.reset(b.kind(), b.key());
                log.unblocked(b, "expiry");
            }
        }
    }

    /** Whether the shared store answers (true without one). */
    public boolean storeUp() {
        SharedStore store = shared;
        return store == null || store.up();
    }

    @Override
    public void close() {
        SharedStore store = shared;
        if (store != null) {
            store.close();
        }
    }
}
