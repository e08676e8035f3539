package org.gatehouse.protection;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.gatehouse.rules.ProtectionSettings;

/**
 * The shared store in a Redis or Valkey server: one script per failure counts it across replicas (address score,
 * distinct users, a user's unfamiliar failures, the fingerprints of its wrong passwords, each key with the window as
 * its TTL), a hash holds the blocks, and every replica mirrors that hash into its own state each second. Commands run
 * on Lettuce's threads; the mirror and reconnecting on one daemon thread. Keys start with {@code gatehouse:protection:}.
 */
final class RedisStore implements SharedStore {

    static final String PREFIX = "gatehouse:protection:";
    static final String BLOCKS = PREFIX + "blocks";
    /** How often the blocks are mirrored, and how long the store counts as up after its last answer. */
    static final long REFRESH_MILLIS = 1000;
    static final long UP_FOR_MILLIS = 3000;

    private static final String FAILURE = """
            local repeated = 0
            if ARGV[2] ~= '' then
              if redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 1 then repeated = 1
              elseif redis.call('SCARD', KEYS[4]) < 64 then redis.call('SADD', KEYS[4], ARGV[2]) end
              redis.call('PEXPIRE', KEYS[4], ARGV[3])
            end
            local points = 4
            if repeated == 1 then points = 1 end
            local q = redis.call('INCRBY', KEYS[1], points)
            if q == points then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
            if ARGV[1] ~= '' and redis.call('SCARD', KEYS[2]) <= tonumber(ARGV[5]) then
              redis.call('SADD', KEYS[2], ARGV[1])
              if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
            end
            local n = redis.call('SCARD', KEYS[2])
            local u = 0
            if ARGV[4] == '1' then
              u = redis.call('INCR', KEYS[3])
              if u == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[3]) end
            end
            return {q, n, u, repeated}
            """;

    private final AccountGuard guard;
    private final RedisURI uri;
    private final ClientResources resources;
    private final RedisClient client;
    private final ScheduledExecutorService thread;
    private volatile StatefulRedisConnection<String, String> connection;
    private volatile long lastAnswer;
    private volatile boolean wasUp = true;

    RedisStore(AccountGuard guard, String uri) {
        this.guard = guard;
        this.uri = RedisURI.create(uri);
        this.uri.setTimeout(Duration.ofSeconds(1));
        this.resources = DefaultClientResources.builder().ioThreadPoolSize(1).computationThreadPoolSize(1).build();
        this.client = RedisClient.create(resources, this.uri);
        client.setOptions(ClientOptions.builder().autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(1))).build());
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "gatehouse-protection-store");
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(this::refresh, 0, REFRESH_MILLIS, TimeUnit.MILLISECONDS);
    }

    private RedisCommands<String, String> sync() {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            c = client.connect();
            connection = c;
        }
        return c.sync();
    }

    /** Mirrors the shared blocks into this replica's state; drops the ones lifted elsewhere or run out. */
    private void refresh() {
        try {
            RedisCommands<String, String> redis = sync();
            Map<String, String> all = redis.hgetall(BLOCKS);
            answered();
            long now = guard.state().now();
            Set<String> ids = new HashSet<>();
            for (Map.Entry<String, String> e : all.entrySet()) {
                Block b = decode(e.getKey(), e.getValue());
                if (b == null || !b.activeAt(now)) {
                    redis.hdel(BLOCKS, e.getKey());
                    continue;
                }
                ids.add(b.id());
                if (guard.state().blocks.asMap().putIfAbsent(b.id(), b) == null && b.kind() == Block.Kind.USER) {
                    familiarFrom(redis, b.key());
                }
            }
            for (Block local : guard.state().blocks.asMap().values()) {
                if (!ids.contains(local.id()) && now - local.created() > 2 * REFRESH_MILLIS) {
                    guard.state().blocks.asMap().remove(local.id(), local); // lifted on another replica
                }
            }
        } catch (RuntimeException e) {
            failed("refresh", e);
        }
    }

    /** A user blocked on another replica: where it logged in there counts as familiar here too (see publish). */
    private void familiarFrom(RedisCommands<String, String> redis, String user) {
        rememberAll(user, redis.zrangeWithScores(PREFIX + "fam:" + user, 0, -1));
    }

    private void rememberAll(String user, List<ScoredValue<String>> networks) {
        for (ScoredValue<String> scored : networks) {
            guard.state().remember(user, scored.getValue(), 1000, (long) scored.getScore());
        }
    }

    @Override
    public void failure(String address, String user, long fingerprint, boolean unfamiliar, ProtectionSettings s,
            Consumer<Counts> then) {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            return;
        }
        String[] keys = {PREFIX + "a:" + address, PREFIX + "au:" + address, PREFIX + "u:" + user,
                PREFIX + "fp:" + user};
        c.async().<List<Long>>eval(FAILURE, ScriptOutputType.MULTI, keys, user,
                fingerprint == 0 ? "" : Long.toHexString(fingerprint), Long.toString(s.window().toMillis()),
                unfamiliar && !user.isEmpty() ? "1" : "0", Integer.toString(s.addressUsers()))
                .whenComplete((r, error) -> {
                    if (error != null) {
                        failed("failure", error);
                        return;
                    }
                    answered();
                    then.accept(new Counts(r.get(0).intValue(), r.get(1).intValue(), r.get(2).intValue(),
                            r.get(3) == 1));
                });
    }

    @Override
    public void success(String user, String network, ProtectionSettings s) {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            return;
        }
        String key = PREFIX + "fam:" + user;
        var async = c.async();
        async.zadd(key, (double) guard.state().now(), network);
        async.zremrangebyrank(key, 0, -(s.familiarPerUser() + 1L));
        async.pexpire(key, s.familiarFor().toMillis()).whenComplete((r, error) -> {
            if (error != null) {
                failed("success", error);
            } else {
                answered();
            }
        });
    }

    @Override
    public void publish(Block b) {
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.async().hset(BLOCKS, field(b.kind(), b.key()), String.join("\t", b.rule(), b.reason(),
                    Long.toString(b.created()), Long.toString(b.expires())))
                    .whenComplete((r, error) -> {
                        if (error != null) {
                            failed("publish", error);
                        }
                    });
            if (b.kind() == Block.Kind.USER) {
                // blocked here by counts across replicas: where the user logged in on the others is familiar here too
                c.async().zrangeWithScores(PREFIX + "fam:" + b.key(), 0, -1).whenComplete((all, error) -> {
                    if (error != null) {
                        failed("familiar", error);
                        return;
                    }
                    rememberAll(b.key(), all);
                });
            }
        }
    }

    @Override
    public void unblock(Block.Kind kind, String key) {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            return;
        }
        var async = c.async();
        async.hdel(BLOCKS, field(kind, key));
        if (kind == Block.Kind.ADDRESS) {
            async.del(PREFIX + "a:" + key, PREFIX + "au:" + key);
        } else {
            async.del(PREFIX + "u:" + key);
        }
    }

    private static String field(Block.Kind kind, String key) {
        return kind.label() + "\t" + key;
    }

    private static Block decode(String field, String value) {
        try {
            String[] k = field.split("\t", 2);
            String[] v = value.split("\t", -1);
            return new Block(Block.Kind.of(k[0]), k[1], v[0], v[1], Long.parseLong(v[2]), Long.parseLong(v[3]));
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void answered() {
        lastAnswer = System.currentTimeMillis();
        if (!wasUp) {
            wasUp = true;
            guard.log().store("up=true store=" + uri.getHost() + ":" + uri.getPort());
        }
    }

    private void failed(String operation, Throwable error) {
        guard.meters().storeError(operation);
        if (wasUp && !up()) {
            wasUp = false;
            guard.log().store("up=false store=" + uri.getHost() + ":" + uri.getPort() + " error=\""
                    + error.getClass().getSimpleName() + "\"");
        }
    }

    @Override
    public boolean up() {
        return System.currentTimeMillis() - lastAnswer < UP_FOR_MILLIS;
    }

    @Override
    public void close() {
        thread.shutdownNow();
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        resources.shutdown(0, 1, TimeUnit.SECONDS);
    }
}
