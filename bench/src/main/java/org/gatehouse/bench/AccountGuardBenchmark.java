package org.gatehouse.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.protection.Attempt;
import org.gatehouse.protection.LoginResult;
import org.gatehouse.protection.Settlement;
import org.gatehouse.rules.ProtectionSettings;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Account protection's decision for one successful login, in the steady state (docs/account-protection.md): 4,096
 * users, each logging in from the address it logged in from before, with 1,000 other addresses blocked and one user
 * blocked for unfamiliar addresses, so that every lookup hits Caffeine. {@code decide} is the check before the login
 * is forwarded (address blocked? store down? user blocked here? address familiar?); {@code decideAndSettle} adds the
 * backend's success (the login counter, the familiar address refreshed).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AccountGuardBenchmark {

    private static final int USERS = 4096;

    private final ProtectionSettings settings = ProtectionSettings.defaults();
    private AccountGuard guard;
    private InetAddress[] clients;
    private String[] users;
    private int next;

    @Setup
    public void setUp() throws Exception {
        guard = AccountGuard.inMemory(new SimpleMeterRegistry());
        clients = new InetAddress[USERS];
        users = new String[USERS];
        for (int i = 0; i < USERS; i++) {
            clients[i] = InetAddress.getByName("10.1." + (i >> 8) + "." + (i & 0xff));
            users[i] = "user" + i + "@example.com";
            settle(guard.begin(settings, "imaps", clients[i], users[i], "LOGIN"), LoginResult.SUCCESS);
        }
        for (int i = 0; i < 1000; i++) { // 1,000 spraying addresses, blocked at addressUsers
            InetAddress attacker = InetAddress.getByName("192.168." + (i >> 8) + "." + (i & 0xff));
            for (int u = 0; u < settings.addressUsers(); u++) {
                settle(guard.begin(settings, "imaps", attacker, "sprayed" + (i * 7 + u) + "@example.com", "LOGIN"),
                        LoginResult.BAD_CREDENTIALS);
            }
        }
        for (int i = 0; i < settings.lockoutThreshold(); i++) { // user0 blocked for unfamiliar addresses
            settle(guard.begin(settings, "imaps", InetAddress.getByName("172.16.0." + i), users[0], "LOGIN"),
                    LoginResult.BAD_CREDENTIALS);
        }
        if (guard.blocks().size() < 1001) {
            throw new IllegalStateException("expected 1,001 blocks, have " + guard.blocks().size());
        }
    }

    private static void settle(Attempt attempt, LoginResult result) {
        if (!attempt.refused()) {
            attempt.settle(result);
        }
    }

    @Benchmark
    public Attempt decide() {
        int i = next++ & (USERS - 1);
        Attempt attempt = guard.begin(settings, "imaps", clients[i], users[i], "LOGIN");
        if (attempt.refused()) {
            throw new IllegalStateException("a familiar login was refused: " + attempt.refusal());
        }
        attempt.discard();
        return attempt;
    }

    @Benchmark
    public Settlement decideAndSettle() {
        int i = next++ & (USERS - 1);
        Attempt attempt = guard.begin(settings, "imaps", clients[i], users[i], "LOGIN");
        if (attempt.refused()) {
            throw new IllegalStateException("a familiar login was refused: " + attempt.refusal());
        }
        return attempt.settle(LoginResult.SUCCESS);
    }

    @TearDown
    public void tearDown() {
        guard.close();
    }
}
