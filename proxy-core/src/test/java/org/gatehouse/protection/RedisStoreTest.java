package org.gatehouse.protection;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.gatehouse.rules.ProtectionSettings;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.ExternalTool;
import org.gatehouse.testing.TestRules;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas sharing a real redis-server (Debian's, started here on a free loopback port): counts add up across
 * them, a block set on one is enforced by the other, a lift on one lifts it on both; when the server stops, a replica
 * set to fail closed refuses logins and one set to fail open goes on alone; no key or value holds a password.
 */
class RedisStoreTest {

    private static final String MARKER = "Rd5" + "secretQw2z";

    @TempDir
    Path dir;

    private Process redis;
    private String uri;
    private AccountGuard a;
    private AccountGuard b;
    private final ProtectionSettings settings = AccountGuardTest.ON;

    @BeforeEach
    void start() throws Exception {
        ExternalTool.require("redis-server");
        int port;
        port = TestRules.freePort();
        redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        uri = "redis://127.0.0.1:" + port;
        a = replica(true);
        b = replica(false);
        Eventually.until("both replicas reach redis", () -> a.storeUp() && b.storeUp());
    }

    private AccountGuard replica(boolean failOpen) {
        AccountGuard guard = new AccountGuard(new LocalState(System::currentTimeMillis),
                Fingerprints.withKey("a shared key of the replicas".getBytes(StandardCharsets.UTF_8)),
                System::currentTimeMillis, new SimpleMeterRegistry());
        guard.share(new RedisStore(guard, uri), failOpen);
        return guard;
    }

    @AfterEach
    void stop() throws Exception {
        if (a != null) {
            a.close();
            b.close();
        }
        if (redis != null) {
            redis.destroy();
            redis.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static InetAddress addr(String literal) {
        return io.netty.util.NetUtil.createInetAddressFromIpAddressString(literal);
    }

    private void fail(AccountGuard guard, String address, String user) throws Exception {
        Attempt attempt = guard.begin(settings, "imaps", addr(address), user, "LOGIN");
        assertThat(attempt.refused()).as("%s for %s", address, user).isFalse();
        attempt.password((MARKER + user).getBytes(StandardCharsets.UTF_8));
        attempt.settle(LoginResult.BAD_CREDENTIALS);
    }

    @Test
    void countsAddUpAcrossReplicasAndEachEnforcesTheOthersBlocks() throws Exception {
        fail(a, "192.0.2.1", "u1");
        fail(a, "192.0.2.1", "u2");
        fail(a, "192.0.2.1", "u3");
        fail(b, "192.0.2.1", "u4");
        fail(b, "192.0.2.1", "u5"); // the fifth distinct user, counted in Redis: B has seen two
        // Whichever replica's failure the script counted fifth sets the block; the other mirrors it.
        Eventually.until("both enforce the block set from the shared counts",
                () -> a.refusesConnection(settings, "imaps", addr("192.0.2.1"))
                        && b.refusesConnection(settings, "imaps", addr("192.0.2.1")));

        assertThat(a.unblock(Block.Kind.ADDRESS, "192.0.2.1", "admin")).isTrue();
        Eventually.until("B sees the lift",
                () -> !b.refusesConnection(settings, "imaps", addr("192.0.2.1")));
    }

    @Test
    void aUserBlockedOnOneReplicaKeepsItsFamiliarAddressesOnTheOther() throws Exception {
        a.begin(settings, "imaps", addr("198.51.100.5"), "erin", "LOGIN")
                .settle(LoginResult.SUCCESS);
        for (int i = 1; i <= 3; i++) {
            fail(a, "203.0.113." + i, "erin");
        }
        Eventually.until("B has the user block", () -> b.blocks().stream()
                .anyMatch(x -> x.kind() == Block.Kind.USER && x.key().equals("erin")));
        Eventually.until("B knows where erin logs in from", () -> !b.begin(settings, "imaps",
                addr("198.51.100.5"), "erin", "LOGIN").refused());
        assertThat(b.begin(settings, "imaps", addr("203.0.113.9"), "erin", "LOGIN").refusal())
                .isEqualTo("user-blocked");
    }

    @Test
    void aUserBlockedHereByCountsAcrossReplicasKeepsTheAddressesItLoggedInFromOnTheOther() throws Exception {
        a.begin(settings, "imaps", addr("198.51.100.6"), "fay", "LOGIN").settle(LoginResult.SUCCESS);
        fail(a, "203.0.113.11", "fay");
        fail(a, "203.0.113.12", "fay");
        RedisClient client = RedisClient.create(uri);
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            Eventually.until("A's two failures are counted in Redis",
                    () -> "2".equals(c.sync().get(RedisStore.PREFIX + "u:fay")));
        } finally {
            client.shutdown();
        }
        fail(b, "203.0.113.13", "fay"); // the third unfamiliar failure across both: B blocks fay itself
        Eventually.until("B has the user block it set", () -> b.blocks().stream()
                .anyMatch(x -> x.kind() == Block.Kind.USER && x.key().equals("fay")));
        Eventually.until("B knows where fay logged in on A", () -> !b.begin(settings, "imaps",
                addr("198.51.100.6"), "fay", "LOGIN").refused());
        assertThat(b.begin(settings, "imaps", addr("203.0.113.14"), "fay", "LOGIN").refusal())
                .isEqualTo("user-blocked");
    }

    @Test
    void whenRedisIsDownAClosedReplicaRefusesLoginsAndAnOpenOneGoesOn() throws Exception {
        redis.destroy();
        redis.waitFor(5, TimeUnit.SECONDS);
        Eventually.until("the store counts as down", () -> !a.storeUp() && !b.storeUp());
        assertThat(b.begin(settings, "imaps", addr("192.0.2.50"), "f", "LOGIN").refusal())
                .isEqualTo("store-unavailable");
        assertThat(a.begin(settings, "imaps", addr("192.0.2.50"), "f", "LOGIN").refused())
                .isFalse();
    }

    @Test
    void noKeyOrValueHoldsAPassword() throws Exception {
        for (int i = 0; i < 4; i++) {
            fail(a, "192.0.2.60", "g" + i);
        }
        a.begin(settings, "imaps", addr("192.0.2.61"), "h", "LOGIN").settle(LoginResult.SUCCESS);
        RedisClient client = RedisClient.create(uri);
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            Eventually.until("the failures are in Redis", () -> !c.sync().keys(RedisStore.PREFIX + "fp:*").isEmpty());
            StringBuilder all = new StringBuilder();
            for (String key : c.sync().keys("*")) {
                all.append(key).append('\n');
                String type = c.sync().type(key);
                List<String> values = switch (type) {
                    case "string" -> List.of(c.sync().get(key));
                    case "set" -> List.copyOf(c.sync().smembers(key));
                    case "hash" -> c.sync().hgetall(key).entrySet().stream().map(e -> e.getKey() + e.getValue())
                            .toList();
                    case "zset" -> c.sync().zrange(key, 0, -1);
                    default -> List.of();
                };
                values.forEach(v -> all.append(v).append('\n'));
            }
            assertThat(all.toString()).contains("192.0.2.60").doesNotContain(MARKER)
                    .doesNotContain(java.util.Base64.getEncoder().encodeToString(MARKER.getBytes()));
        } finally {
            client.shutdown();
        }
    }
}
