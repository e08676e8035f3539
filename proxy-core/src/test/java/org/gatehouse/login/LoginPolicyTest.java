package org.gatehouse.login;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.LoginPolicy;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.load.RulesLoader;
import org.gatehouse.session.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** SASL decoding and the login policy's judgement, without a connection. */
class LoginPolicyTest {

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void plainNamesTheAuthenticationIdentityNotTheAuthorizationOne() {
        assertThat(Sasl.plainUser(b64("\0alice\0secret"))).contains("alice");
        assertThat(Sasl.plainUser(b64("admin\0alice\0secret"))).contains("alice");
        assertThat(Sasl.plainUser(b64("no separators"))).isEmpty();
        assertThat(Sasl.plainUser("not base64!")).isEmpty();
        assertThat(Sasl.userIn("plain", b64("\0bob\0pw"))).isEqualTo("bob");
    }

    @Test
    void loginNamesTheUserInItsFirstResponse() {
        assertThat(Sasl.loginUser(b64("carol"))).contains("carol");
        assertThat(Sasl.userIn("LOGIN", b64("carol"))).isEqualTo("carol");
        assertThat(Sasl.userIn("CRAM-MD5", b64("dave 0123"))).as("not decoded: it holds no user name we trust")
                .isEmpty();
    }

    @Test
    void userNamesAreBoundedButNotEscapedHere() {
        assertThat(Sasl.user("x".repeat(500))).hasSize(128);
        assertThat(Sasl.plainUser(b64("\0a\tb\0pw"))).contains("a\tb");
    }

    @ParameterizedTest
    @CsvSource({"PLAIN,true", "LOGIN,true", "XOAUTH2,true", "OAUTHBEARER,true", "SOMETHING-NEW,true", "CRAM-MD5,false",
            "DIGEST-MD5,false", "SCRAM-SHA-256,false", "scram-sha-1-plus,false", "NTLM,false", "GSSAPI,false"})
    void everyMechanismThatIsNotKnownToProveWithoutSendingCountsAsSendingTheSecret(String mechanism, boolean sends) {
        assertThat(Sasl.sendsSecret(mechanism)).isEqualTo(sends);
    }

    @ParameterizedTest
    @CsvSource({"PLAIN,PLAIN", "scram-sha-256,SCRAM-SHA-256", "AGFsaWNlAHNlY3JldA==,other", "PLAIN\tAGE=,other",
            "'',other"})
    void logsNameOnlyKnownMechanisms(String mechanism, String label) {
        assertThat(Sasl.label(mechanism)).isEqualTo(label);
        assertThat(Sasl.method("AUTH", mechanism)).isEqualTo("AUTH " + label);
    }

    @Test
    void thePolicyJudgesByTlsAndByWhetherTheSecretIsSent() {
        LoginGuard secureOnly = guard(new LoginSettings(LoginPolicy.SECURE_ONLY, true));
        assertThat(secureOnly.judge(false, true)).isEqualTo(LoginGuard.Verdict.REFUSE);
        assertThat(secureOnly.judge(false, false)).isEqualTo(LoginGuard.Verdict.ALLOW);
        assertThat(secureOnly.judge(true, true)).isEqualTo(LoginGuard.Verdict.ALLOW);
        assertThat(secureOnly.offers(false, "PLAIN")).isFalse();
        assertThat(secureOnly.offers(false, "CRAM-MD5")).isTrue();

        LoginGuard strict = guard(new LoginSettings(LoginPolicy.SECURE_ONLY, false));
        assertThat(strict.judge(false, false)).as("challenge-response refused too")
                .isEqualTo(LoginGuard.Verdict.REFUSE);

        LoginGuard audit = guard(new LoginSettings(LoginPolicy.AUDIT, true));
        assertThat(audit.judge(false, true)).isEqualTo(LoginGuard.Verdict.AUDIT);
        assertThat(audit.refusesPlaintext(false)).isFalse();

        assertThat(guard(new LoginSettings(LoginPolicy.PLAINTEXT_ALLOWED, true)).judge(false, true))
                .isEqualTo(LoginGuard.Verdict.ALLOW);
    }

    @Test
    void aRecordEscapesTheUserAndNeverTakesTheClientsMethodWords() throws Exception {
        PlaintextLogins report = PlaintextLogins.inMemory();
        LoginGuard guard = new LoginGuard(new LoginSettings(LoginPolicy.SECURE_ONLY, true), report);
        Session session = new Session(RulesLoader.parse("""
                rules:
                  - name: pop3
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    backend: ["127.0.0.1:110"]
                """, Path.of("rules.yaml")).rules().get(0), new InetSocketAddress("192.0.2.7", 40000),
                new GatewayMetrics(new SimpleMeterRegistry()).rule("pop3"));

        guard.record(session, LoginGuard.Verdict.REFUSE, Sasl.method("AUTH", "PLAIN\tc2VjcmV0"), "eve\r\ninjected");
        guard.record(session, LoginGuard.Verdict.ALLOW, "USER/PASS", "not recorded");

        assertThat(report.entries()).singleElement().satisfies(e -> {
            assertThat(e.method()).isEqualTo("AUTH other");
            assertThat(e.user()).isEqualTo("eve\\x0d\\x0ainjected");
            assertThat(e.action()).isEqualTo(PlaintextLogins.REFUSED);
        });
    }

    @Test
    void aReportWrittenByAnEarlierVersionIsCleanedWhenRead() {
        assertThat(PlaintextLogins.knownMethod("AUTH PLAIN\tAGFsaWNlAHNlY3JldA==")).isEqualTo("AUTH other");
        assertThat(PlaintextLogins.knownMethod("AUTH PLAIN")).isEqualTo("AUTH PLAIN");
        assertThat(PlaintextLogins.knownMethod("USER/PASS")).isEqualTo("USER/PASS");
        assertThat(PlaintextLogins.knownMethod("garbage")).isEqualTo("other");
    }

    private static LoginGuard guard(LoginSettings settings) {
        return new LoginGuard(settings, PlaintextLogins.inMemory());
    }
}
