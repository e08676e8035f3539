package org.gatehouse.mail;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import org.gatehouse.login.PlaintextLogins;
import org.gatehouse.rules.LoginPolicy;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.testing.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class Pop3InspectorTest {

    private static final String GREETING = "+OK legacy POP3 ready <1896.697170952@mx.example>\r\n";
    private static final String CAPA_REPLY = "+OK Capability list follows\r\nUSER\r\nTOP\r\nSASL PLAIN LOGIN CRAM-MD5\r\n"
            + "STLS\r\nUIDL\r\n.\r\n";
    private static final String SECRET = "pop3-s3cret";

    private Inspected pop3;

    private Inspected start(TlsMode mode, LoginPolicy policy) {
        pop3 = Inspected.of(Protocol.POP3, mode, policy);
        pop3.backend(GREETING);
        assertThat(pop3.toClient()).isEqualTo(GREETING);
        return pop3;
    }

    @AfterEach
    void close() {
        if (pop3 != null) {
            pop3.close();
        }
    }

    private static String plain(String user, String password) {
        return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes());
    }

    @Test
    void capaBeforeTlsOffersStlsAndHidesPlaintextLogins() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        pop3.client("CAPA\r\n");
        assertThat(pop3.toBackend()).isEqualTo("CAPA\r\n");
        pop3.backend(CAPA_REPLY);

        assertThat(pop3.toClient())
                .isEqualTo("+OK Capability list follows\r\nTOP\r\nSASL CRAM-MD5\r\nUIDL\r\nSTLS\r\n.\r\n");
    }

    @Test
    void capaOnImplicitTlsKeepsLoginsAndDropsTheBackendsStls() {
        start(TlsMode.IMPLICIT, LoginPolicy.SECURE_ONLY);

        pop3.client("capa\r\n").backend(CAPA_REPLY);

        assertThat(pop3.toClient())
                .isEqualTo("+OK Capability list follows\r\nUSER\r\nTOP\r\nSASL PLAIN LOGIN CRAM-MD5\r\nUIDL\r\n.\r\n");
    }

    @Test
    void capaInAuditModeAdvertisesWhatTheServerDoesPlusStls() {
        start(TlsMode.STARTTLS, LoginPolicy.AUDIT);

        pop3.client("CAPA\r\n").backend(CAPA_REPLY);

        assertThat(pop3.toClient())
                .isEqualTo(
                        "+OK Capability list follows\r\nUSER\r\nTOP\r\nSASL PLAIN LOGIN CRAM-MD5\r\nUIDL\r\nSTLS\r\n.\r\n");
    }

    @Test
    void userAndPassWithoutTlsAreRefusedAndNeverForwarded() {
        LogCapture.clear();
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        pop3.client("USER alice\r\nPASS " + SECRET + "\r\n");

        assertThat(pop3.toBackend()).isEmpty();
        assertThat(pop3.toClient()).isEqualTo(
                "-ERR [AUTH] Plaintext authentication is not allowed without TLS: issue STLS first\r\n".repeat(2));
        assertThat(pop3.counter("gatehouse.logins.plaintext", "rule", "r1", "action", "refused")).isEqualTo(1);
        assertThat(pop3.report.entries()).singleElement().satisfies(e -> {
            assertThat(e.client()).isEqualTo("127.0.0.9");
            assertThat(e.user()).isEqualTo("alice");
            assertThat(e.action()).isEqualTo(PlaintextLogins.REFUSED);
        });
        assertThat(LogCapture.lines()).anyMatch(l -> l.contains("action=refused") && l.contains("user=alice"))
                .noneMatch(l -> l.contains(SECRET));
        assertThat(pop3.channel.isOpen()).isTrue();
    }

    @Test
    void commandsSplitAcrossPacketsAndMixedCaseAreRecognised() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        pop3.client("us", "Er al", "ice\r", "\npA", "ss " + SECRET + "\r\n");

        assertThat(pop3.toBackend()).isEmpty();
        assertThat(pop3.toClient()).contains("-ERR [AUTH]");
    }

    @Test
    void saslPlainWithInitialResponseIsRefusedAndItsUserRecorded() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        pop3.client("AUTH PLAIN " + plain("bob", SECRET) + "\r\n");

        assertThat(pop3.toBackend()).isEmpty();
        assertThat(pop3.toClient()).startsWith("-ERR [AUTH]");
        assertThat(pop3.report.entries()).singleElement().satisfies(e -> assertThat(e.user()).isEqualTo("bob"));
    }

    @Test
    void aResponsePipelinedAfterARefusedAuthClosesTheConnection() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        pop3.client("AUTH PLAIN\r\n" + plain("bob", SECRET) + "\r\n");

        assertThat(pop3.toBackend()).isEmpty();
        assertThat(pop3.toClient()).startsWith("-ERR [AUTH]").endsWith("-ERR Closing: an authentication response after "
                + "the refused AUTH\r\n");
        assertThat(pop3.channel.isOpen()).isFalse();
        assertThat(pop3.counter("gatehouse.protocol.violations", "rule", "r1", "kind", "sasl-after-refusal"))
                .isEqualTo(1);
    }

    @Test
    void aChallengeResponseLoginWithoutTlsIsRecordedAsMailAccessOnceTheServerAcceptsIt() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);
        pop3.client("APOP alice c4c9334bac560ecc979e58001b3e22fb\r\n");
        assertThat(pop3.report.entries()).as("not before the server said yes").isEmpty();
        pop3.backend("+OK maildrop locked\r\n");
        assertThat(pop3.toClient()).isEqualTo("+OK maildrop locked\r\n");
        assertThat(pop3.report.entries()).singleElement().satisfies(e -> {
            assertThat(e.action()).isEqualTo("audited");
            assertThat(e.method()).isEqualTo("mail access after login");
        });
    }

    @Test
    void challengeResponseLoginsPassBeforeTlsUnlessTurnedOff() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);
        pop3.client("APOP alice c4c9334bac560ecc979e58001b3e22fb\r\nAUTH CRAM-MD5\r\n");
        assertThat(pop3.toBackend()).isEqualTo("APOP alice c4c9334bac560ecc979e58001b3e22fb\r\nAUTH CRAM-MD5\r\n");
        pop3.close();

        pop3 = Inspected.of(Protocol.POP3, TlsMode.STARTTLS, new LoginSettings(LoginPolicy.SECURE_ONLY, false));
        pop3.backend(GREETING).toClient();
        pop3.client("APOP alice c4c9334bac560ecc979e58001b3e22fb\r\nAUTH CRAM-MD5\r\n");
        assertThat(pop3.toBackend()).isEmpty();
        assertThat(pop3.toClient()).isEqualTo(
                "-ERR [AUTH] Plaintext authentication is not allowed without TLS: issue STLS first\r\n".repeat(2));
    }

    @Test
    void repliesStayInOrderWhenARefusalFollowsAForwardedCommand() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        pop3.client("CAPA\r\nUSER alice\r\nNOOP\r\n");
        assertThat(pop3.toBackend()).isEqualTo("CAPA\r\nNOOP\r\n");
        assertThat(pop3.toClient()).isEmpty(); // the refusal waits for the CAPA reply

        pop3.backend(CAPA_REPLY, "+OK noop\r\n");
        assertThat(pop3.toClient())
                .isEqualTo("+OK Capability list follows\r\nTOP\r\nSASL CRAM-MD5\r\nUIDL\r\nSTLS\r\n.\r\n"
                        + "-ERR [AUTH] Plaintext authentication is not allowed without TLS: issue STLS first\r\n+OK noop\r\n");
    }

    @Test
    void stlsIsAnsweredByTheGatewayAndStartsTls() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        pop3.client("STLS\r\n");

        assertThat(pop3.toBackend()).isEmpty();
        assertThat(pop3.toClient()).isEqualTo("+OK Begin TLS negotiation\r\n");
        assertThat(pop3.tlsInstalled()).isTrue();
        assertThat(pop3.counter("gatehouse.starttls.upgrades", "rule", "r1")).isEqualTo(1);
    }

    @Test
    void plaintextPipelinedAfterStlsIsNeverReadAndClosesTheConnection() {
        start(TlsMode.STARTTLS, LoginPolicy.PLAINTEXT_ALLOWED);

        pop3.client("STLS\r\nUSER alice\r\nPASS " + SECRET + "\r\n");

        assertThat(pop3.toBackend()).isEmpty();
        assertThat(pop3.toClient()).isEqualTo("-ERR Closing: plaintext pipelined after STARTTLS\r\n");
        assertThat(pop3.tlsInstalled()).isFalse();
        assertThat(pop3.channel.isOpen()).isFalse();
        assertThat(pop3.counter("gatehouse.protocol.violations", "rule", "r1", "kind", "starttls-injection"))
                .isEqualTo(1);
    }

    @Test
    void plaintextArrivingWhileStlsWaitsForEarlierRepliesClosesTheConnection() {
        start(TlsMode.STARTTLS, LoginPolicy.PLAINTEXT_ALLOWED);

        pop3.client("NOOP\r\nSTLS\r\n");
        assertThat(pop3.toBackend()).isEqualTo("NOOP\r\n");
        pop3.client("USER alice\r\n");

        assertThat(pop3.toBackend()).isEmpty();
        assertThat(pop3.channel.isOpen()).isFalse();
    }

    @Test
    void stlsWhereTlsIsAlreadyActiveOrNotOffered() {
        start(TlsMode.IMPLICIT, LoginPolicy.SECURE_ONLY);
        pop3.client("STLS\r\n");
        assertThat(pop3.toClient()).isEqualTo("-ERR TLS is already active\r\n");
        pop3.close();

        start(TlsMode.NONE, LoginPolicy.SECURE_ONLY);
        pop3.client("STLS\r\nUSER alice\r\n");
        assertThat(pop3.toClient()).isEqualTo("-ERR STLS is not offered on this connection\r\n"
                + "-ERR [AUTH] Plaintext authentication is not allowed on this connection\r\n");
        assertThat(pop3.toBackend()).isEmpty();
    }

    @Test
    void auditModeForwardsAndRecordsTheUserNeverThePassword() {
        LogCapture.clear();
        start(TlsMode.STARTTLS, LoginPolicy.AUDIT);

        pop3.client("USER carol\r\nPASS " + SECRET + "\r\n");
        assertThat(pop3.toBackend()).isEqualTo("USER carol\r\nPASS " + SECRET + "\r\n");
        pop3.backend("+OK\r\n", "+OK logged in\r\n");

        assertThat(pop3.toClient()).isEqualTo("+OK\r\n+OK logged in\r\n");
        assertThat(pop3.counter("gatehouse.logins.plaintext", "rule", "r1", "action", "audited")).isEqualTo(1);
        assertThat(pop3.report.entries()).singleElement().satisfies(e -> {
            assertThat(e.user()).isEqualTo("carol");
            assertThat(e.action()).isEqualTo(PlaintextLogins.AUDITED);
            assertThat(e.count()).isEqualTo(1);
        });
        assertThat(LogCapture.lines()).anyMatch(l -> l.contains("action=audited") && l.contains("user=carol"))
                .noneMatch(l -> l.contains(SECRET));
    }

    @Test
    void auditModeTakesTheUserFromTheFirstSaslResponse() {
        start(TlsMode.STARTTLS, LoginPolicy.AUDIT);

        pop3.client("AUTH LOGIN\r\n");
        pop3.backend("+ VXNlcm5hbWU6\r\n");
        pop3.client(Base64.getEncoder().encodeToString("dave".getBytes()) + "\r\n");
        pop3.backend("+ UGFzc3dvcmQ6\r\n");
        pop3.client(Base64.getEncoder().encodeToString(SECRET.getBytes()) + "\r\n");

        assertThat(pop3.report.entries()).singleElement().satisfies(e -> assertThat(e.user()).isEqualTo("dave"));
        assertThat(pop3.inspecting()).isTrue();
        pop3.backend("+OK logged in\r\n");
        assertThat(pop3.inspecting()).isFalse();
    }

    @Test
    void afterLoginTheInspectorLeavesAndBytesPassUnread() {
        start(TlsMode.IMPLICIT, LoginPolicy.SECURE_ONLY);

        pop3.client("USER alice\r\nPASS " + SECRET + "\r\n").backend("+OK\r\n");
        assertThat(pop3.inspecting()).isTrue();
        pop3.backend("+OK 2 messages\r\n+OK 2 320\r\n");

        assertThat(pop3.inspecting()).isFalse();
        pop3.client("STLS\r\n");
        assertThat(pop3.toBackend()).isEqualTo("USER alice\r\nPASS " + SECRET + "\r\nSTLS\r\n");
        assertThat(pop3.toClient()).isEqualTo("+OK\r\n+OK 2 messages\r\n+OK 2 320\r\n");
    }

    @Test
    void aBlockReplyIsRelayedToItsDotEvenWhenItContainsStatusLikeLines() {
        start(TlsMode.IMPLICIT, LoginPolicy.SECURE_ONLY);

        pop3.client("PASS x\r\nRETR 1\r\n");
        pop3.backend("+OK\r\n");
        assertThat(pop3.inspecting()).isTrue(); // the RETR reply is still expected
        pop3.backend("+OK 30 octets\r\n+OK not a status\r\n..\r\n", "-ERR nor this\r\n.\r\n");

        assertThat(pop3.inspecting()).isFalse();
        assertThat(pop3.toClient())
                .isEqualTo("+OK\r\n+OK 30 octets\r\n+OK not a status\r\n..\r\n-ERR nor this\r\n.\r\n");
    }

    @Test
    void anOverlongLineGetsAnErrorAndAClose() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        pop3.client("NOOP " + "x".repeat(MailInspector.MAX_COMMAND_LINE));

        assertThat(pop3.toClient()).isEqualTo("-ERR Line too long\r\n");
        assertThat(pop3.toBackend()).isEmpty();
        assertThat(pop3.channel.isOpen()).isFalse();
    }

    @Test
    void aForwardedLineIsNotOverwrittenByTheBytesThatFollowItInTheSameRead() {
        start(TlsMode.IMPLICIT, LoginPolicy.SECURE_ONLY);

        // The forwarded line is a slice of the read buffer, not yet written when the read ends: compacting the buffer
        // for the unfinished line after it would move "QU" over it.
        pop3.client("NOOP\r\nQU");

        assertThat(pop3.toBackend()).isEqualTo("NOOP\r\n");
    }
}
