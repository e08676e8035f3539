package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.child;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.ClientSet;
import org.gatehouse.rules.ProtectionSettings;
import org.gatehouse.rules.ProtectionStore;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.Secret;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.MapNode;

/**
 * Reads account protection: {@code protection:} at the top (every mail rule's defaults, and the store) and in a rule
 * (over the file's, key by key). {@code protection: off} (or {@code report}, {@code enforce}) sets the mode alone.
 */
final class ProtectionSection {

    private static final Set<String> RULE_KEYS = Set.of("mode", "window", "blockDuration", "addressFailures",
            "addressUsers", "lockoutThreshold", "tarpit", "familiarAddresses", "exempt");
    private static final Set<String> TOP_KEYS = union(RULE_KEYS, "store");
    private static final Set<String> TARPIT_KEYS = Set.of("initialDelay", "maxDelay");
    private static final Set<String> FAMILIAR_KEYS = Set.of("perUser", "for");
    private static final Set<String> STORE_KEYS = Set.of("redis", "onFailure", "key");

    private final LoadContext ctx;
    private final NodeReader in;
    private final AccessSection access;
    private final CertificatesSection secrets;

    ProtectionSection(LoadContext ctx, Map<String, ClientSet> clientSets) {
        this.ctx = ctx;
        this.in = ctx.in();
        this.access = new AccessSection(ctx, clientSets);
        this.secrets = new CertificatesSection(ctx);
    }

    /** The file's defaults for mail rules, from the top-level key; null after a problem. */
    ProtectionSettings defaults(Optional<Entry> entry) {
        return entry.map(e -> read(e.value(), "protection", ProtectionSettings.defaults(), TOP_KEYS))
                .orElse(ProtectionSettings.defaults());
    }

    /** The store named under the top-level key; null after a problem. */
    ProtectionStore store(Optional<Entry> entry) {
        Optional<MapNode> store = entry.filter(e -> e.value() instanceof MapNode)
                .flatMap(e -> in.entry((MapNode) e.value(), "store"))
                .flatMap(e -> in.map(e.value(), "protection.store"));
        if (store.isEmpty()) {
            return ProtectionStore.embedded();
        }
        MapNode map = store.get();
        String path = "protection.store";
        in.onlyKeys(map, path, STORE_KEYS);
        int before = ctx.problemCount();
        Optional<String> redis = in.entry(map, "redis").flatMap(e -> in.text(e.value(), child(path, "redis")))
                .filter(s -> {
                    boolean ok = s.text().matches("rediss?://[^\\s]+");
                    if (!ok) {
                        in.problem(s.position(), child(path, "redis"), '"' + s.text()
                                + "\" is not a Redis address (expected redis://host:port or rediss://host:port)");
                    }
                    return ok;
                }).map(YamlNode.Scalar::text);
        boolean failOpen = in.entry(map, "onFailure").flatMap(e -> in.text(e.value(), child(path, "onFailure")))
                .map(s -> {
                    if (!s.text().equals("open") && !s.text().equals("closed")) {
                        in.problem(s.position(), child(path, "onFailure"), '"' + s.text()
                                + "\" (expected open: logins go on with this replica's counters, or closed: logins get"
                                + " a temporary error while the store cannot be reached)");
                    }
                    return !s.text().equals("closed");
                }).orElse(true);
        Optional<Secret> key = in.entry(map, "key").map(e -> secrets.secret(e.value(), child(path, "key")));
        if (redis.isPresent() && in.entry(map, "key").isEmpty()) {
            in.problem(map.position(), child(path, "key"), "is required with redis (expected { env: VARIABLE } or"
                    + " { file: PATH }: the key of the password fingerprints, the same on every replica)");
        }
        if (redis.isEmpty() && in.entry(map, "redis").isEmpty() && ctx.problemCount() == before) {
            in.entry(map, "key").ifPresent(e -> ctx.warn(e.keyPosition(), child(path, "key"),
                    "is not used without redis: the embedded store keys fingerprints with a random key per process"));
        }
        return ctx.problemCount() > before ? null : new ProtectionStore(redis, failOpen, key.filter(k -> k != null));
    }

    /** A rule's settings over the file's; tcp rules have none. Null after a problem. */
    ProtectionSettings forRule(MapNode rule, String path, Protocol protocol, ProtectionSettings base) {
        Optional<Entry> entry = in.entry(rule, "protection");
        if (protocol == Protocol.TCP) {
            entry.ifPresent(e -> in.problem(e.keyPosition(), child(path, "protection"),
                    "applies to pop3, imap and smtp only: a tcp rule relays bytes without reading logins"));
            return ProtectionSettings.off();
        }
        return entry.map(e -> read(e.value(), child(path, "protection"), base, RULE_KEYS)).orElse(base);
    }

    private ProtectionSettings read(YamlNode node, String path, ProtectionSettings base, Set<String> keys) {
        if (node instanceof YamlNode.Scalar s) {
            return mode(s, path).map(base::withMode).orElse(null);
        }
        MapNode map = in.map(node, path).orElse(null);
        if (map == null) {
            return null;
        }
        in.onlyKeys(map, path, keys);
        int before = ctx.problemCount();
        ProtectionSettings.Mode mode = in.entry(map, "mode").flatMap(e -> in.text(e.value(), child(path, "mode")))
                .flatMap(s -> mode(s, child(path, "mode"))).orElse(base.mode());
        Duration window = duration(map, path, "window", Duration.ofMinutes(1), Duration.ofDays(1), base.window());
        Duration block = duration(map, path, "blockDuration", Duration.ofSeconds(1), Duration.ofDays(7),
                base.blockDuration());
        int failures = integer(map, path, "addressFailures", 1, 100_000, base.addressFailures());
        int users = integer(map, path, "addressUsers", 1, 100_000, base.addressUsers());
        int lockout = integer(map, path, "lockoutThreshold", 3, 100_000, base.lockoutThreshold());
        Optional<MapNode> tarpit = sub(map, path, "tarpit", TARPIT_KEYS);
        Duration initial = tarpit.map(t -> duration(t, child(path, "tarpit"), "initialDelay", Duration.ZERO,
                Duration.ofMinutes(1), base.tarpitInitial())).orElse(base.tarpitInitial());
        Duration max = tarpit.map(t -> duration(t, child(path, "tarpit"), "maxDelay", Duration.ZERO,
                Duration.ofMinutes(1), base.tarpitMax())).orElse(base.tarpitMax());
        Optional<MapNode> familiar = sub(map, path, "familiarAddresses", FAMILIAR_KEYS);
        int perUser = familiar.map(f -> integer(f, child(path, "familiarAddresses"), "perUser", 1, 100,
                base.familiarPerUser())).orElse(base.familiarPerUser());
        Duration familiarFor = familiar.map(f -> duration(f, child(path, "familiarAddresses"), "for",
                Duration.ofHours(1), Duration.ofDays(400), base.familiarFor())).orElse(base.familiarFor());
        ClientList exempt = in.entry(map, "exempt").map(e -> exempt(e.value(), child(path, "exempt")))
                .orElse(base.exempt());
        if (ctx.problemCount() > before) {
            return null;
        }
        if (max.compareTo(initial) < 0) {
            in.problem(tarpit.orElseThrow().position(), child(path, "tarpit"), "maxDelay " + NodeReader.show(max)
                    + " is shorter than initialDelay " + NodeReader.show(initial)
                    + " (expected maxDelay >= initialDelay)");
            return null;
        }
        return new ProtectionSettings(mode, window, block, failures, users, lockout, initial, max, perUser,
                familiarFor, exempt);
    }

    private Optional<ProtectionSettings.Mode> mode(YamlNode.Scalar s, String path) {
        return ctx.word(s, path, ProtectionSettings.Mode.fromConfigName(s.text()), "enforce, report or off");
    }

    private Optional<MapNode> sub(MapNode map, String path, String key, Set<String> keys) {
        Optional<MapNode> sub = in.entry(map, key).flatMap(e -> in.map(e.value(), child(path, key)));
        sub.ifPresent(m -> in.onlyKeys(m, child(path, key), keys));
        return sub;
    }

    private Duration duration(MapNode map, String path, String key, Duration min, Duration max, Duration base) {
        return in.entry(map, key).flatMap(e -> in.duration(e.value(), child(path, key), min, max)).orElse(base);
    }

    private int integer(MapNode map, String path, String key, int min, int max, int base) {
        return in.entry(map, key).flatMap(e -> in.integer(e.value(), child(path, key), min, max)).orElse(base);
    }

    /** Client sets and addresses; no domains, since a login is judged without a DNS lookup. */
    private ClientList exempt(YamlNode node, String path) {
        ClientList list = access.clientList(node, path);
        if (!list.domains().isEmpty()) {
            in.problem(node.position(), path, "names domains (" + String.join(", ", list.domains().domains())
                    + "), which would need a DNS lookup at each login (expected addresses or client sets of addresses)");
        }
        return list;
    }

    private static Set<String> union(Set<String> a, String b) {
        java.util.HashSet<String> all = new java.util.HashSet<>(a);
        all.add(b);
        return Set.copyOf(all);
    }
}
