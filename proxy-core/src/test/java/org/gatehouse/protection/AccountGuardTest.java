package org.gatehouse.protection;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.ProtectionSettings;
import org.gatehouse.rules.ProtectionSettings.Mode;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.DomainSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decision logic on a clock the test moves: counts, delays, blocks, familiar addresses, expiry, report mode. */
class AccountGuardTest {

    private final AtomicLong now = new AtomicLong(1_700_000_000_000L);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AccountGuard guard = AccountGuard.withClock(now::get, registry);

    @TempDir
    Path dir;

    static ProtectionSettings settings(Mode mode, ClientList exempt) {
        return new ProtectionSettings(mode, Duration.ofMinutes(30), Duration.ofMinutes(15), 10, 5, 5,
                Duration.ofSeconds(2), Duration.ofSeconds(15), 10, Duration.ofDays(30), exempt);
    }

    static final ProtectionSettings ON = settings(Mode.ENFORCE, ClientList.empty());

    static InetAddress ip(String a) throws Exception {
        return InetAddress.getByName(a);
    }

    private Settlement fail(ProtectionSettings s, String address, String user, String password) throws Exception {
        Attempt a = guard.begin(s, "pop3s", ip(address), user, "USER/PASS");
        assertThat(a.refused()).as("%s for %s refused", address, user).isFalse();
        a.password(password.getBytes(StandardCharsets.UTF_8));
        return a.settle(LoginResult.BAD_CREDENTIALS);
    }

    private void succeed(String address, String user) throws Exception {
        guard.begin(ON, "pop3s", ip(address), user, "USER/PASS").settle(LoginResult.SUCCESS);
    }

    @Test
    void failureRepliesAreDelayedDoublingUpToTheCap() throws Exception {
        succeed("192.0.2.7", "alice"); // her phone: the user's own failures never block her there
        List<Long> delays = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            delays.add(fail(ON, "192.0.2.7", "alice", "guess" + i).delayMillis());
        }
        assertThat(delays).containsExactly(2000L, 4000L, 8000L, 15000L, 15000L);
        assertThat(AccountGuard.delay(ON, 0)).isZero();
    }

    @Test
    void oneAddressFailingForManyUsersIsBlockedAtAddressUsers() throws Exception {
        for (int i = 1; i <= 4; i++) {
            assertThat(fail(ON, "192.0.2.8", "user" + i, "Summer2026!").close()).isFalse();
        }
        assertThat(fail(ON, "192.0.2.8", "user5", "Summer2026!").close()).as("closed after the fifth user").isTrue();
        assertThat(guard.refusesConnection(ON, "pop3s", ip("192.0.2.8"))).isTrue();
        assertThat(guard.begin(ON, "pop3s", ip("192.0.2.8"), "user6", "USER/PASS").refusal())
                .isEqualTo("address-blocked");
        assertThat(guard.blocks()).singleElement().satisfies(b -> {
            assertThat(b.kind()).isEqualTo(Block.Kind.ADDRESS);
            assertThat(b.reason()).isEqualTo("distinct-users");
        });
        assertThat(guard.refusesConnection(ON, "pop3s", ip("192.0.2.9"))).as("another address").isFalse();
    }

    @Test
    void theSameWrongPasswordAgainEscalatesLessThanNewOnes() throws Exception {
        succeed("192.0.2.10", "bob");
        succeed("192.0.2.11", "carol");
        long stale = 0;
        for (int i = 0; i < 9; i++) {
            stale = fail(ON, "192.0.2.10", "bob", "old-password").delayMillis();
        }
        assertThat(stale).as("9 repeats weigh 1 + 8 quarters: a third failure").isEqualTo(8000L);
        assertThat(guard.refusesConnection(ON, "pop3s", ip("192.0.2.10"))).isFalse();
        for (int i = 0; i < 10; i++) {
            fail(ON, "192.0.2.11", "carol", "guess" + i);
        }
        assertThat(guard.refusesConnection(ON, "pop3s", ip("192.0.2.11"))).as("10 different ones block").isTrue();
    }

    @Test
    void manyAddressesTryingOneUserStopBeforeTheBackendsLockoutAndFamiliarAddressesKeepWorking() throws Exception {
        succeed("198.51.100.20", "Dave");
        int forwarded = 0;
        for (int i = 1; i <= 20; i++) {
            Attempt a = guard.begin(ON, "pop3s", ip("203.0.113." + i), "dave", "USER/PASS");
            if (!a.refused()) {
                forwarded++;
                a.settle(LoginResult.BAD_CREDENTIALS);
            } else {
                assertThat(a.refusal()).isEqualTo("user-blocked");
            }
        }
        assertThat(forwarded).as("failures that reached the backend").isEqualTo(3).isLessThan(5);
        assertThat(guard.blocks()).anySatisfy(b -> {
            assertThat(b.kind()).isEqualTo(Block.Kind.USER);
            assertThat(b.key()).isEqualTo("dave");
        });
        Attempt home = guard.begin(ON, "pop3s", ip("198.51.100.20"), "DAVE", "USER/PASS");
        assertThat(home.refused()).as("the user's own address").isFalse();
        home.settle(LoginResult.SUCCESS);
    }

    @Test
    void attemptsInFlightCountTowardTheUsersLimit() throws Exception {
        for (int i = 1; i <= 3; i++) {
            assertThat(guard.begin(ON, "imaps", ip("203.0.113." + i), "erin", "LOGIN").refused()).isFalse();
        }
        assertThat(guard.begin(ON, "imaps", ip("203.0.113.9"), "erin", "LOGIN").refused()).isTrue();
    }

    @Test
    void temporaryAndOtherFailuresNeverCount() throws Exception {
        for (int i = 0; i < 50; i++) {
            Attempt a = guard.begin(ON, "smtps", ip("203.0.113." + (i % 10 + 1)), "frank", "AUTH PLAIN");
            assertThat(a.refused()).isFalse();
            assertThat(a.settle(i % 2 == 0 ? LoginResult.TEMPORARY_FAILURE : LoginResult.OTHER_FAILURE))
                    .isEqualTo(Settlement.NOW);
        }
        assertThat(guard.blocks()).isEmpty();
        assertThat(registry.get("gatehouse.logins").tag("result", "temporary-failure").counter().count())
                .isEqualTo(25);
    }

    @Test
    void blocksExpireAndCanBeLiftedByHand() throws Exception {
        succeed("192.0.2.30", "gina");
        succeed("192.0.2.31", "hank");
        for (int i = 0; i < 10; i++) {
            fail(ON, "192.0.2.30", "gina", "g" + i);
        }
        assertThat(guard.refusesConnection(ON, "pop3s", ip("192.0.2.30"))).isTrue();
        now.addAndGet(Duration.ofMinutes(15).toMillis());
        assertThat(guard.refusesConnection(ON, "pop3s", ip("192.0.2.30"))).as("expired").isFalse();
        guard.expire();
        assertThat(guard.blocks()).isEmpty();

        for (int i = 0; i < 10; i++) {
            fail(ON, "192.0.2.31", "hank", "h" + i);
        }
        assertThat(guard.unblock(Block.Kind.ADDRESS, "192.0.2.31", "admin")).isTrue();
        assertThat(guard.refusesConnection(ON, "pop3s", ip("192.0.2.31"))).isFalse();
        assertThat(fail(ON, "192.0.2.31", "hank", "again").delayMillis()).as("counts forgotten").isEqualTo(2000L);
    }

    @Test
    void aBlockThatRanOutEndsAtTheNextFailureEvenBeforeTheHousekeeping() throws Exception {
        // interop/protection.sh caught it under load: the first failure after a block ran out, before the
        // housekeeping's expire(), met the old counts and set the next block off at once, with no unblock line.
        for (int i = 1; i <= 5; i++) {
            fail(ON, "192.0.2.40", "user" + i, "Summer2026!");
        }
        assertThat(guard.refusesConnection(ON, "pop3s", ip("192.0.2.40"))).isTrue();
        now.addAndGet(Duration.ofMinutes(15).toMillis());

        assertThat(fail(ON, "192.0.2.40", "user6", "Summer2026!").close()).as("not blocked again at once").isFalse();
        assertThat(guard.refusesConnection(ON, "pop3s", ip("192.0.2.40"))).isFalse();
        assertThat(guard.blocks()).isEmpty();
        assertThat(registry.get("gatehouse.protection.blocks").counters()).as("one block set in all")
                .allSatisfy(c -> assertThat(c.count()).isEqualTo(1.0));
    }

    @Test
    void exemptClientsAreNeverCountedDelayedOrBlocked() throws Exception {
        ClientList office = new ClientList(List.of("10.0.0.0/8"),
                AddressSet.of(List.of(AddressBlock.parse("10.0.0.0/8"))), DomainSet.empty());
        ProtectionSettings s = settings(Mode.ENFORCE, office);
        for (int i = 0; i < 30; i++) {
            assertThat(fail(s, "10.1.2.3", "user" + i, "x").delayMillis()).isZero();
        }
        assertThat(guard.refusesConnection(s, "pop3s", ip("10.1.2.3"))).isFalse();
        assertThat(guard.blocks()).isEmpty();
    }

    @Test
    void reportModeCountsAndLogsButNeverDelaysOrRefuses() throws Exception {
        ProtectionSettings report = settings(Mode.REPORT, ClientList.empty());
        for (int i = 0; i < 30; i++) {
            Settlement st = fail(report, "192.0.2.40", "user" + i, "Winter2026");
            assertThat(st.delayMillis()).isZero();
            assertThat(st.close()).isFalse();
        }
        assertThat(guard.refusesConnection(report, "pop3s", ip("192.0.2.40"))).isFalse();
        assertThat(guard.blocks()).isEmpty();
        assertThat(registry.get("gatehouse.protection.reported").tag("action", "block-address").counter().count())
                .isPositive();
    }

    @Test
    void offCountsNothing() throws Exception {
        Attempt a = guard.begin(ProtectionSettings.off(), "pop3s", ip("192.0.2.50"), "ivan", "USER/PASS");
        assertThat(a.tracked()).isFalse();
        assertThat(a.settle(LoginResult.BAD_CREDENTIALS)).isEqualTo(Settlement.NOW);
    }

    @Test
    void stateSurvivesSavingAndLoadingWithoutAnyFingerprint() throws Exception {
        succeed("198.51.100.60", "judy");
        for (int i = 0; i < 5; i++) {
            fail(ON, "192.0.2.60", "u" + i, "Spring2026");
        }
        succeed("192.0.2.61", "kim\tx");
        fail(ON, "192.0.2.61", "kim\tx", "one");
        Path file = dir.resolve(StateFile.FILE_NAME);
        StateFile.save(guard.state(), file);
        String text = Files.readString(file);
        assertThat(text).doesNotContain("Spring2026").contains("198.51.100.60").contains("192.0.2.60");

        AccountGuard restarted = AccountGuard.withClock(now::get, new SimpleMeterRegistry());
        StateFile.load(restarted.state(), file);
        assertThat(restarted.refusesConnection(ON, "pop3s", ip("192.0.2.60"))).isTrue();
        assertThat(restarted.state().familiar("judy", "198.51.100.60", now.get(), Duration.ofDays(1))).isTrue();
        Attempt next = restarted.begin(ON, "pop3s", ip("192.0.2.61"), "kim\tx", "USER/PASS");
        next.password("two".getBytes(StandardCharsets.UTF_8));
        assertThat(next.settle(LoginResult.BAD_CREDENTIALS).delayMillis()).as("its second failure").isEqualTo(4000L);
    }

    @Test
    void tarpittedRepliesAreBounded() {
        for (int i = 0; i < AccountGuard.MAX_TARPITTED; i++) {
            assertThat(guard.holdReply("pop3s")).isTrue();
        }
        assertThat(guard.holdReply("pop3s")).isFalse();
        guard.replyReleased();
        assertThat(guard.holdReply("pop3s")).isTrue();
    }
}
