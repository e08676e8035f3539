package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * Account protection for one mail rule: how failed logins are counted, delayed and blocked (docs/account-protection.md).
 *
 * @param mode              enforce, report (count and log only) or off
 * @param window            how long a failed login counts
 * @param blockDuration     how long a block lasts
 * @param addressFailures   failed logins from one address within the window that block it (a repeated wrong password
 *                          counts a quarter)
 * @param addressUsers      distinct users failing from one address within the window that block it (spraying)
 * @param lockoutThreshold  the backend's own lockout threshold (Active Directory's "account lockout threshold"): at
 *                          most {@link #unfamiliarFailures()} failures for one user from addresses it never logged in
 *                          from reach the backend within the window
 * @param tarpitInitial     the delay of the failure reply after an address's first failure; it doubles with each
 * @param tarpitMax         the longest delay of one failure reply
 * @param familiarPerUser   how many addresses a user's successful logins are remembered from
 * @param familiarFor       how long such an address stays familiar after the last success from it
 * @param exempt            clients never counted, delayed or blocked
 */
public record ProtectionSettings(Mode mode, Duration window, Duration blockDuration, int addressFailures,
        int addressUsers, int lockoutThreshold, Duration tarpitInitial, Duration tarpitMax, int familiarPerUser,
        Duration familiarFor, ClientList exempt) {

    public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(30);
    public static final Duration DEFAULT_BLOCK = Duration.ofMinutes(15);
    public static final int DEFAULT_ADDRESS_FAILURES = 10;
    public static final int DEFAULT_ADDRESS_USERS = 5;
    public static final int DEFAULT_LOCKOUT_THRESHOLD = 5;
    /** Dovecot's auth_penalty: 2 s, doubling, at most 15 s. */
    public static final Duration DEFAULT_TARPIT_INITIAL = Duration.ofSeconds(2);
    public static final Duration DEFAULT_TARPIT_MAX = Duration.ofSeconds(15);
    public static final int DEFAULT_FAMILIAR_PER_USER = 10;
    public static final Duration DEFAULT_FAMILIAR_FOR = Duration.ofDays(30);

    public ProtectionSettings {
        requireNonNull(mode, "mode");
        requireNonNull(window, "window");
        requireNonNull(blockDuration, "blockDuration");
        requireNonNull(tarpitInitial, "tarpitInitial");
        requireNonNull(tarpitMax, "tarpitMax");
        requireNonNull(familiarFor, "familiarFor");
        requireNonNull(exempt, "exempt");
        if (addressFailures < 1 || addressUsers < 1 || lockoutThreshold < 3 || familiarPerUser < 1) {
            throw new IllegalArgumentException("protection threshold out of range");
        }
    }

    /** The settings of a mail rule that says nothing: on, with the defaults. */
    public static ProtectionSettings defaults() {
        return new ProtectionSettings(Mode.ENFORCE, DEFAULT_WINDOW, DEFAULT_BLOCK, DEFAULT_ADDRESS_FAILURES,
                DEFAULT_ADDRESS_USERS, DEFAULT_LOCKOUT_THRESHOLD, DEFAULT_TARPIT_INITIAL, DEFAULT_TARPIT_MAX,
                DEFAULT_FAMILIAR_PER_USER, DEFAULT_FAMILIAR_FOR, ClientList.empty());
    }

    /** Off: what a tcp rule has, and what {@code protection: off} says. */
    public static ProtectionSettings off() {
        return defaults().withMode(Mode.OFF);
    }

    public ProtectionSettings withMode(Mode m) {
        return new ProtectionSettings(m, window, blockDuration, addressFailures, addressUsers, lockoutThreshold,
                tarpitInitial, tarpitMax, familiarPerUser, familiarFor, exempt);
    }

    /**
     * Failures for one user from unfamiliar addresses that may reach the backend within the window: two fewer than its
     * lockout threshold, so that the user's own typing mistakes never tip it over.
     */
    public int unfamiliarFailures() {
        return lockoutThreshold - 2;
    }

    public boolean enabled() {
        return mode != Mode.OFF;
    }

    /** What the gateway does about failed logins. */
    public enum Mode implements ConfigWord {
        /** Delays failure replies and blocks. The default for mail rules. */
        ENFORCE("enforce"),
        /** Counts, logs and meters what it would do, and does none of it: the migration step. */
        REPORT("report"),
        /** Nothing is counted. */
        OFF("off");

        private final String configName;

        Mode(String configName) {
            this.configName = configName;
        }

        @Override
        public String configName() {
            return configName;
        }

        public static Optional<Mode> fromConfigName(String word) {
            return ConfigWord.parse(Mode.class, word);
        }
    }
}
