package org.gatehouse.mail;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import org.gatehouse.rules.LoginPolicy;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.TlsMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SmtpInspectorTest {

    private static final String GREETING = "220 mx.example ESMTP legacy\r\n";
    private static final String EHLO_REPLY = "250-mx.example Hello\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
            + "250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-AUTH=LOGIN PLAIN\r\n250 8BITMIME\r\n";
    private static final String SECRET = "smtp-s3cret";

    private Inspected smtp;

    private void start(TlsMode mode, LoginPolicy policy) {
        smtp = Inspected.of(Protocol.SMTP, mode, policy);
        smtp.backend(GREETING);
        assertThat(smtp.toClient()).isEqualTo(GREETING);
    }

    @AfterEach
    void close() {
        if (smtp != null) {
            smtp.close();
        }
    }

    private static String plain(String user) {
        return Base64.getEncoder().encodeToString(("\0" + user + "\0" + SECRET).getBytes());
    }

    @Test
    void ehloBeforeTlsOffersStarttlsAndOnlyChallengeResponse() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        smtp.client("EHLO client.example\r\n").backend(EHLO_REPLY);

        assertThat(smtp.toClient()).isEqualTo("250-mx.example Hello\r\n250-PIPELINING\r\n250-AUTH CRAM-MD5\r\n"
                + "250-8BITMIME\r\n250 STARTTLS\r\n");
    }

    @Test
    void ehloOnImplicitTlsDropsOnlyTheBackendsStarttls() {
        start(TlsMode.IMPLICIT, LoginPolicy.SECURE_ONLY);

        smtp.client("ehlo client.example\r\n").backend(EHLO_REPLY);

        assertThat(smtp.toClient())
                .isEqualTo("250-mx.example Hello\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
                        + "250-AUTH=LOGIN PLAIN\r\n250 8BITMIME\r\n");
    }

    @Test
    void ehloReplyArrivingInPiecesIsRewrittenWhole() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        smtp.client("EHLO c\r\n").backend("250-mx.example Hello\r\n250-STAR", "TTLS\r\n250 AUTH PLAIN\r\n");

        assertThat(smtp.toClient()).isEqualTo("250-mx.example Hello\r\n250 STARTTLS\r\n");
    }

    @Test
    void authPlainAndLoginWithoutTlsAreRefused() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        smtp.client("AUTH PLAIN " + plain("alice") + "\r\nAUTH LOGIN\r\n");

        assertThat(smtp.toBackend()).isEmpty();
        assertThat(smtp.toClient()).isEqualTo("530 5.7.0 Must issue a STARTTLS command first\r\n".repeat(2));
        assertThat(smtp.counter("gatehouse.logins.plaintext", "rule", "r1", "action", "refused")).isEqualTo(2);
        assertThat(smtp.report.entries()).extracting(e -> e.user()).containsExactlyInAnyOrder("alice", "-");
    }

    @Test
    void withoutStarttlsTheRefusalSaysEncryptionIsRequired() {
        start(TlsMode.NONE, LoginPolicy.SECURE_ONLY);

        smtp.client("AUTH PLAIN " + plain("alice") + "\r\nSTARTTLS\r\n");

        assertThat(smtp.toClient())
                .isEqualTo("538 5.7.11 Encryption required for requested authentication mechanism\r\n"
                        + "502 5.5.1 STARTTLS is not offered on this connection\r\n");
        assertThat(smtp.toBackend()).isEmpty();
    }

    @Test
    void aPipelinedResponseAfterARefusedAuthCloses() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);

        smtp.client("AUTH LOGIN\r\n" + Base64.getEncoder().encodeToString("alice".getBytes()) + "\r\n");

        assertThat(smtp.toBackend()).isEmpty();
        assertThat(smtp.toClient())
                .endsWith("421 4.7.0 Closing connection: an authentication response after the refused AUTH\r\n");
        assertThat(smtp.channel.isOpen()).isFalse();
    }

    @Test
    void starttlsIsAnsweredByTheGatewayAndPipelinedPlaintextCloses() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);
        smtp.client("STARTTLS\r\n");
        assertThat(smtp.toClient()).isEqualTo("220 2.0.0 Ready to start TLS\r\n");
        assertThat(smtp.tlsInstalled()).isTrue();
        smtp.close();

        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);
        smtp.client("STARTTLS\r\nAUTH PLAIN " + plain("alice") + "\r\n");
        assertThat(smtp.toClient()).isEqualTo("421 4.7.0 Closing connection: plaintext pipelined after STARTTLS\r\n");
        assertThat(smtp.toBackend()).isEmpty();
        assertThat(smtp.channel.isOpen()).isFalse();
    }

    @Test
    void aMessageIsRelayedAsDataNotCommands() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);
        smtp.client("EHLO c\r\n").backend(EHLO_REPLY); // PIPELINING
        smtp.toBackend();
        smtp.toClient();
        smtp.client("MAIL FROM:<a@example>\r\nRCPT TO:<b@example>\r\nDATA\r\n");
        smtp.backend("250 ok\r\n250 ok\r\n");
        String message = "Subject: hi\r\n\r\nAUTH PLAIN " + plain("x") + "\r\nSTARTTLS\r\n..dot\r\n.\r\n";
        smtp.client(message.substring(0, 20)); // sent too early: held until the server says 354
        assertThat(smtp.toBackend()).isEqualTo("MAIL FROM:<a@example>\r\nRCPT TO:<b@example>\r\nDATA\r\n");

        smtp.backend("354 go ahead\r\n");
        smtp.client(message.substring(20), "QUIT\r\n");

        assertThat(smtp.toBackend()).isEqualTo(message + "QUIT\r\n");
        smtp.backend("250 queued\r\n221 bye\r\n");
        assertThat(smtp.toClient()).isEqualTo("250 ok\r\n250 ok\r\n354 go ahead\r\n250 queued\r\n221 bye\r\n");
        // the mail transaction without TLS is recorded (secureChannel: audit); the AUTH in the message is no login
        assertThat(smtp.report.entries()).extracting(e -> e.action() + " " + e.method())
                .containsExactly("audited MAIL");
    }

    @Test
    void withoutPipeliningACommandWaitsForTheReplyToTheOneBefore() {
        start(TlsMode.NONE, LoginPolicy.PLAINTEXT_ALLOWED);

        smtp.client("MAIL FROM:<a@example>\r\nRCPT TO:<b@example>\r\n");
        assertThat(smtp.toBackend()).isEqualTo("MAIL FROM:<a@example>\r\n");
        smtp.backend("250 ok\r\n");

        assertThat(smtp.toBackend()).isEqualTo("RCPT TO:<b@example>\r\n");
    }

    @Test
    void aServerThatEndsTheMessageEarlierThanTheGatewayIsCaught() {
        start(TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);
        smtp.client("DATA\r\n").backend("354 go ahead\r\n");

        smtp.client("Subject: x\r\n\r\nbody\r\n");
        smtp.backend("250 queued\r\n"); // this server found an end the gateway did not

        assertThat(smtp.channel.isOpen()).isFalse();
        assertThat(smtp.counter("gatehouse.protocol.violations", "rule", "r1", "kind", "smtp-data-desync"))
                .isEqualTo(1);
    }

    @Test
    void bdatIsNeverPassedOnAndChunkingNeverOffered() {
        start(TlsMode.NONE, LoginPolicy.SECURE_ONLY);
        smtp.client("EHLO c\r\n").backend("250-mx\r\n250-PIPELINING\r\n250-BINARYMIME\r\n250 CHUNKING\r\n");
        assertThat(smtp.toClient()).isEqualTo("250-mx\r\n250 PIPELINING\r\n");
        smtp.toBackend();
        String chunk = "AUTH PLAIN " + plain("x") + "\r\n";

        // A server that rejects the BDAT line (a syntax it reads otherwise, no MAIL yet) reads the chunk as commands.
        smtp.client("BDAT " + chunk.length() + " LAST\r\n" + chunk);

        assertThat(smtp.toBackend()).isEmpty();
        assertThat(smtp.toClient())
                .isEqualTo("421 4.7.0 Closing connection: BDAT is not offered through this gateway\r\n");
        assertThat(smtp.channel.isOpen()).isFalse();
    }

    @Test
    void auditedAuthIsForwardedAndRecordedAndMessagesAreStillRead() {
        start(TlsMode.STARTTLS, LoginPolicy.AUDIT);

        smtp.client("AUTH PLAIN " + plain("erin") + "\r\n");
        assertThat(smtp.toBackend()).isEqualTo("AUTH PLAIN " + plain("erin") + "\r\n");
        smtp.backend("235 2.7.0 Authentication successful\r\n");

        assertThat(smtp.inspecting()).isTrue(); // every message is read to its end, logged in or not
        assertThat(smtp.report.entries()).singleElement().satisfies(e -> assertThat(e.user()).isEqualTo("erin"));
    }

    @Test
    void onTlsAfterLoginAMessageWithABareLineFeedIsStillRefused() {
        start(TlsMode.IMPLICIT, LoginPolicy.SECURE_ONLY);

        smtp.client("AUTH PLAIN " + plain("erin") + "\r\n").backend("235 2.7.0 ok\r\n");
        smtp.client("MAIL FROM:<a@example>\r\n").backend("250 ok\r\n");
        smtp.client("DATA\r\n").backend("354 go ahead\r\n");
        smtp.toBackend();
        smtp.toClient();

        smtp.client("Subject: x\r\n\r\nhello\n.\nMAIL FROM:<evil@example>\r\n");

        assertThat(smtp.toBackend()).isEqualTo("Subject: x\r\n\r\nhello");
        assertThat(smtp.toClient()).startsWith("554 5.6.0 ");
        assertThat(smtp.channel.isOpen()).isFalse();
    }

    @Test
    void anOverlongLineGetsA500AndAClose() {
        start(TlsMode.IMPLICIT, LoginPolicy.SECURE_ONLY);

        smtp.client("HELO " + "x".repeat(MailInspector.MAX_COMMAND_LINE));

        assertThat(smtp.toClient()).isEqualTo("500 5.5.2 Line too long, closing connection\r\n");
        assertThat(smtp.channel.isOpen()).isFalse();
    }
}
