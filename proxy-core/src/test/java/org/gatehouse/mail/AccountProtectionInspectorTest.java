package org.gatehouse.mail;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.protection.LoginResult;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.ProtectionSettings;
import org.gatehouse.rules.Protocol;
import org.junit.jupiter.api.Test;

/**
 * The inspectors and account protection: each protocol's final login reply counted as the RFCs say, a failure's reply
 * held on the event loop's clock (and the client's next guess with it), a blocked user refused before a byte of the
 * login reaches the backend.
 */
class AccountProtectionInspectorTest {

    private final AtomicLong now = new AtomicLong(1_700_000_000_000L);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AccountGuard accounts = AccountGuard.withClock(now::get, registry);
    private final ProtectionSettings settings = new ProtectionSettings(ProtectionSettings.Mode.ENFORCE,
            Duration.ofMinutes(30), Duration.ofMinutes(15), 10, 5, 5, Duration.ofSeconds(2), Duration.ofSeconds(15),
            10, Duration.ofDays(30), ClientList.empty());

    private double logins(String result) {
        var c = registry.find("gatehouse.logins").tag("result", result).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aPop3FailureIsHeldForTheTarpitDelayWithTheClientsNextGuess() {
        Inspected s = Inspected.protectedBy(Protocol.POP3, accounts, settings);
        s.channel.freezeTime();
        try {
            s.backend("+OK ready\r\n").toClient();
            s.client("USER alice\r\n").backend("+OK\r\n");
            assertThat(s.toBackend()).isEqualTo("USER alice\r\n");
            assertThat(s.toClient()).isEqualTo("+OK\r\n");
            s.client("PASS wrong-one\r\n").backend("-ERR [AUTH] Authentication failed\r\n");
            assertThat(s.toBackend()).isEqualTo("PASS wrong-one\r\n");
            assertThat(s.toClient()).as("held").isEmpty();
            s.client("PASS wrong-two\r\n");
            assertThat(s.toBackend()).as("the next guess waits too").isEmpty();
            s.channel.advanceTimeBy(1999, TimeUnit.MILLISECONDS);
            s.channel.runScheduledPendingTasks();
            assertThat(s.toClient()).isEmpty();
            s.channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
            s.channel.runScheduledPendingTasks();
            assertThat(s.toClient()).isEqualTo("-ERR [AUTH] Authentication failed\r\n");
            assertThat(s.toBackend()).isEqualTo("PASS wrong-two\r\n");
            assertThat(logins("bad-credentials")).isEqualTo(1);
        } finally {
            s.close();
        }
    }

    @Test
    void imapTemporaryFailuresAreNeitherCountedNorDelayedAndSuccessLeaves() {
        Inspected s = Inspected.protectedBy(Protocol.IMAP, accounts, settings);
        try {
            s.backend("* OK ready\r\n").toClient();
            s.client("a LOGIN alice \"pw\"\r\n").backend("a NO [UNAVAILABLE] Try later\r\n");
            assertThat(s.toClient()).isEqualTo("a NO [UNAVAILABLE] Try later\r\n");
            s.client("b LOGIN alice \"pw\"\r\n").backend("b OK [CAPABILITY IMAP4rev1] Logged in\r\n");
            assertThat(s.toClient()).startsWith("b OK");
            assertThat(s.inspecting()).isFalse();
            assertThat(logins("temporary-failure")).isEqualTo(1);
            assertThat(logins("success")).isEqualTo(1);
            assertThat(accounts.blocks()).isEmpty();
        } finally {
            s.close();
        }
    }

    @Test
    void anSmtpLoginForAUserBlockedFromUnfamiliarAddressesNeverReachesTheBackend() throws Exception {
        for (int i = 1; i <= 3; i++) {
            accounts.begin(settings, "r1", InetAddress.getByName("203.0.113." + i), "bob", "AUTH PLAIN")
                    .settle(LoginResult.BAD_CREDENTIALS);
        }
        Inspected s = Inspected.protectedBy(Protocol.SMTP, accounts, settings);
        try {
            s.backend("220 ready\r\n").toClient();
            String plain = Base64.getEncoder().encodeToString("\0bob\0secret".getBytes(StandardCharsets.UTF_8));
            s.client("AUTH PLAIN " + plain + "\r\n");
            assertThat(s.toBackend()).isEmpty();
            assertThat(s.toClient()).isEqualTo("421 4.7.0 Too many failed logins, try again later, closing"
                    + " connection\r\n");
            assertThat(s.channel.isOpen()).isFalse();
            assertThat(logins("refused")).isEqualTo(1);
        } finally {
            s.close();
        }
    }

    @Test
    void smtpRepliesAreReadAsRfc4954Says() {
        assertThat(LoginReplies.smtp("235 2.7.0 Authentication successful")).isEqualTo(LoginResult.SUCCESS);
        assertThat(LoginReplies.smtp("535 5.7.8 Error: authentication failed")).isEqualTo(
                LoginResult.BAD_CREDENTIALS);
        assertThat(LoginReplies.smtp("454 4.7.0 Temporary authentication failure")).isEqualTo(
                LoginResult.TEMPORARY_FAILURE);
        assertThat(LoginReplies.smtp("535-5.7.8 two lines")).isEqualTo(LoginResult.BAD_CREDENTIALS);
        assertThat(LoginReplies.smtp("501 5.5.4 Syntax")).isEqualTo(LoginResult.OTHER_FAILURE);
        assertThat(LoginReplies.pop3("-ERR [SYS/TEMP] busy")).isEqualTo(LoginResult.TEMPORARY_FAILURE);
        assertThat(LoginReplies.pop3("-ERR [IN-USE] locked")).isEqualTo(LoginResult.TEMPORARY_FAILURE);
        assertThat(LoginReplies.pop3("-ERR [SYS/PERM] gone")).isEqualTo(LoginResult.OTHER_FAILURE);
        assertThat(LoginReplies.pop3("-ERR Authentication failed.")).isEqualTo(LoginResult.BAD_CREDENTIALS);
        assertThat(LoginReplies.imap("NO", "[AUTHENTICATIONFAILED] Authentication failed."))
                .isEqualTo(LoginResult.BAD_CREDENTIALS);
        assertThat(LoginReplies.imap("NO", "[SERVERBUG] oops")).isEqualTo(LoginResult.TEMPORARY_FAILURE);
        assertThat(LoginReplies.imap("NO", "[EXPIRED] change it")).isEqualTo(LoginResult.OTHER_FAILURE);
        assertThat(LoginReplies.imap("BAD", "syntax")).isEqualTo(LoginResult.OTHER_FAILURE);
    }
}
