package org.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.gatehouse.relay.IdentityDialogue.Outcome;
import org.gatehouse.relay.IdentityDialogue.Step;
import org.gatehouse.rules.Backend.ClientIdentity;
import org.gatehouse.rules.Protocol;
import org.junit.jupiter.api.Test;

/** The client-identity dialogues line by line, with the replies Postfix 3.7 and Dovecot 2.3 give. */
class IdentityDialogueTest {

    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.77", 40123);
    private static final InetSocketAddress GATEWAY = new InetSocketAddress("127.0.0.1", 51000);

    private static IdentityDialogue dialogue(ClientIdentity identity, Protocol protocol) {
        return IdentityDialogue.of(identity, protocol, CLIENT, Optional.empty(), GATEWAY);
    }

    @Test
    void smtpAsksForXclientAfterTheGreetingAndSendsTheAttributesOffered() {
        IdentityDialogue smtp = dialogue(ClientIdentity.XCLIENT, Protocol.SMTP);
        assertThat(smtp.read("220-backend.example.test ESMTP")).isEqualTo(Step.MORE);
        assertThat(smtp.read("220 Postfix")).isEqualTo(Step.endOfGreeting("EHLO [127.0.0.1]"));
        assertThat(smtp.read("250-backend.example.test")).isEqualTo(Step.MORE);
        assertThat(smtp.read("250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT"))
                .isEqualTo(Step.MORE);
        assertThat(smtp.read("250 SMTPUTF8"))
                .isEqualTo(Step.send("XCLIENT ADDR=127.0.0.77 PORT=40123 NAME=[UNAVAILABLE]"));
        // Postfix answers a successful XCLIENT with a new greeting.
        assertThat(smtp.read("220 backend.example.test ESMTP Postfix")).isEqualTo(Step.ended(false, Outcome.SENT));
    }

    @Test
    void smtpSendsOnlyTheAttributesTheServerNamesAndAConfirmedName() {
        IdentityDialogue smtp = IdentityDialogue.of(ClientIdentity.XCLIENT, Protocol.SMTP,
                new InetSocketAddress("2001:db8::7", 25000), Optional.of("mx.partner.example"),
                new InetSocketAddress("::1", 1));
        assertThat(smtp.read("220 ready")).isEqualTo(Step.endOfGreeting("EHLO [IPv6:0:0:0:0:0:0:0:1]"));
        smtp.read("250-XCLIENT ADDR NAME");
        assertThat(smtp.read("250 8BITMIME"))
                .isEqualTo(Step.send("XCLIENT ADDR=IPV6:2001:db8:0:0:0:0:0:7 NAME=mx.partner.example"));
        assertThat(smtp.read("550 5.7.0 Error: insufficient authorization"))
                .isEqualTo(Step.ended(false, Outcome.REFUSED));
    }

    @Test
    void smtpWithoutXclientOrWithARefusingGreetingSendsNothingFurther() {
        IdentityDialogue smtp = dialogue(ClientIdentity.XCLIENT, Protocol.SMTP);
        smtp.read("220 ready");
        smtp.read("250-PIPELINING");
        assertThat(smtp.read("250 8BITMIME")).isEqualTo(Step.ended(false, Outcome.NOT_OFFERED));
        IdentityDialogue busy = dialogue(ClientIdentity.XCLIENT, Protocol.SMTP);
        assertThat(busy.read("421 4.3.2 busy")).isEqualTo(Step.ended(true, Outcome.SKIPPED));
        IdentityDialogue heloOnly = dialogue(ClientIdentity.XCLIENT, Protocol.SMTP);
        heloOnly.read("220 ready");
        assertThat(heloOnly.read("502 5.5.2 command not recognized")).isEqualTo(Step.ended(false, Outcome.NOT_OFFERED));
    }

    @Test
    void xtextEncodesWhatIsNotPrintableAndThePlusAndEquals() {
        assertThat(SmtpXclient.xtext("a+b=c d\u00e9")).isEqualTo("a+2Bb+3Dc+20d+E9");
    }

    @Test
    void pop3TakesXclientFromDovecotsGreetingCode() {
        IdentityDialogue pop3 = dialogue(ClientIdentity.XCLIENT, Protocol.POP3);
        assertThat(pop3.read("+OK [XCLIENT] Dovecot (Debian) ready."))
                .isEqualTo(Step.endOfGreeting("XCLIENT ADDR=127.0.0.77 PORT=40123"));
        assertThat(pop3.read("+OK Updated")).isEqualTo(Step.ended(false, Outcome.SENT));
    }

    @Test
    void pop3ReadsCapaThenSendsXclient() {
        IdentityDialogue pop3 = dialogue(ClientIdentity.XCLIENT, Protocol.POP3);
        assertThat(pop3.read("+OK Dovecot ready.")).isEqualTo(Step.endOfGreeting("CAPA"));
        for (String line : List.of("+OK", "CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE",
                "USER", "SASL PLAIN LOGIN", "XCLIENT")) {
            assertThat(pop3.read(line)).isEqualTo(Step.MORE);
        }
        assertThat(pop3.read(".")).isEqualTo(Step.send("XCLIENT ADDR=127.0.0.77 PORT=40123"));
        assertThat(pop3.read("+OK Updated")).isEqualTo(Step.ended(false, Outcome.SENT));
    }

    @Test
    void pop3WithoutXclientInCapaEndsNotOffered() {
        IdentityDialogue pop3 = dialogue(ClientIdentity.XCLIENT, Protocol.POP3);
        pop3.read("+OK ready");
        pop3.read("+OK");
        pop3.read("USER");
        assertThat(pop3.read(".")).isEqualTo(Step.ended(false, Outcome.NOT_OFFERED));
        IdentityDialogue noCapa = dialogue(ClientIdentity.XCLIENT, Protocol.POP3);
        noCapa.read("+OK ready");
        assertThat(noCapa.read("-ERR unknown command")).isEqualTo(Step.ended(false, Outcome.NOT_OFFERED));
        IdentityDialogue refused = dialogue(ClientIdentity.XCLIENT, Protocol.POP3);
        assertThat(refused.read("-ERR [SYS/TEMP] busy")).isEqualTo(Step.ended(true, Outcome.SKIPPED));
    }

    @Test
    void imapTakesIdFromTheGreetingsCapabilityCode() {
        IdentityDialogue imap = dialogue(ClientIdentity.IMAP_ID, Protocol.IMAP);
        assertThat(imap.read("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
                + "AUTH=PLAIN] Dovecot ready."))
                .isEqualTo(new Step(true, List.of("gh2 ID (\"x-originating-ip\" \"127.0.0.77\" "
                        + "\"x-originating-port\" \"40123\")"), Outcome.PENDING));
        assertThat(imap.read("* ID (\"name\" \"Dovecot\")")).isEqualTo(Step.MORE);
        assertThat(imap.read("gh2 OK ID completed.")).isEqualTo(Step.ended(false, Outcome.SENT));
    }

    @Test
    void imapAsksForCapabilityWhenTheGreetingDoesNotSay() {
        IdentityDialogue imap = dialogue(ClientIdentity.IMAP_ID, Protocol.IMAP);
        assertThat(imap.read("* OK ready")).isEqualTo(Step.endOfGreeting("gh1 CAPABILITY"));
        assertThat(imap.read("* CAPABILITY IMAP4rev1 ID")).isEqualTo(Step.MORE);
        assertThat(imap.read("gh1 OK done").send()).containsExactly(
                "gh2 ID (\"x-originating-ip\" \"127.0.0.77\" \"x-originating-port\" \"40123\")");
        assertThat(imap.read("gh2 NO not trusted")).isEqualTo(Step.ended(false, Outcome.REFUSED));
    }

    @Test
    void imapWithoutIdOrWithAByeGreetingSendsNothing() {
        assertThat(dialogue(ClientIdentity.IMAP_ID, Protocol.IMAP).read("* OK [CAPABILITY IMAP4rev1 IDLE] hi"))
                .isEqualTo(Step.ended(true, Outcome.NOT_OFFERED));
        assertThat(dialogue(ClientIdentity.IMAP_ID, Protocol.IMAP).read("* BYE too many"))
                .isEqualTo(Step.ended(true, Outcome.SKIPPED));
        IdentityDialogue imap = dialogue(ClientIdentity.IMAP_ID, Protocol.IMAP);
        imap.read("* OK ready");
        imap.read("* CAPABILITY IMAP4rev1 IDLE");
        assertThat(imap.read("gh1 OK done")).isEqualTo(Step.ended(false, Outcome.NOT_OFFERED));
    }
}
