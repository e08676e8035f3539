package org.gatehouse.mail;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.gatehouse.rules.LoginPolicy;
import org.gatehouse.rules.SmtpSettings.BareLineEndings;
import org.gatehouse.rules.TlsMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SMTP smuggling: a message whose end some server reads elsewhere than the gateway. Every end-of-data variant other
 * than CRLF "." CRLF is refused (default) or rewritten so the server reads the end where the gateway does.
 */
class SmtpSmugglingTest {

    private static final String SMUGGLED = "MAIL FROM:<evil@example>\r\nRCPT TO:<victim@example>\r\nDATA\r\n"
            + "From: ceo@example\r\n\r\nwire the money\r\n.\r\n";

    private Inspected smtp;

    @AfterEach
    void close() {
        if (smtp != null) {
            smtp.close();
        }
    }

    static Stream<Arguments> endings() {
        return Stream.of(
                Arguments.of("\n.\n", "\r\n.\r\n"),
                Arguments.of("\n.\r\n", "\r\n.\r\n"),
                Arguments.of("\r\n.\n", "\r\n.\r\n"),
                Arguments.of("\r.\r", "\r\n.\r\n"),
                Arguments.of("\r.\n", "\r\n.\r\n"),
                Arguments.of("\r\n.\r", "\r\n.\r\n"));
    }

    private void inMessage(TlsMode mode, BareLineEndings policy) {
        smtp = Inspected.smtp(mode, LoginPolicy.SECURE_ONLY, policy);
        smtp.backend("220 mx ESMTP\r\n");
        smtp.client("EHLO c\r\n").backend("250-mx\r\n250 PIPELINING\r\n");
        smtp.client("MAIL FROM:<a@example>\r\nRCPT TO:<b@example>\r\nDATA\r\n");
        smtp.backend("250 ok\r\n250 ok\r\n354 go ahead\r\n");
        smtp.toBackend();
        smtp.toClient();
    }

    @ParameterizedTest
    @MethodSource("endings")
    void eachBareEndingIsRefusedAndTheMessageNeverEnds(String ending, String normalized) {
        for (TlsMode mode : List.of(TlsMode.NONE, TlsMode.IMPLICIT)) {
            inMessage(mode, BareLineEndings.REJECT);

            smtp.client("Subject: hi\r\n\r\nhello" + ending + SMUGGLED);

            String toBackend = smtp.toBackend();
            assertThat(toBackend).as("up to the first bare CR or LF, never it")
                    .isEqualTo("Subject: hi\r\n\r\nhello" + ending.substring(0, firstBare(ending)));
            assertThat(toBackend).doesNotContain("evil");
            assertThat(smtp.toClient()).startsWith("554 5.6.0 Message refused");
            assertThat(smtp.channel.isOpen()).isFalse();
            assertThat(smtp.counter("gatehouse.smtp.bare.line.endings", "rule", "r1", "action", "rejected"))
                    .isEqualTo(1);
            smtp.close();
            smtp = null;
        }
    }

    @ParameterizedTest
    @MethodSource("endings")
    void underNormalizeTheServerReadsTheEndWhereTheGatewayDoes(String ending, String normalized) {
        inMessage(TlsMode.IMPLICIT, BareLineEndings.NORMALIZE);

        smtp.client("Subject: hi\r\n\r\nhello" + ending + SMUGGLED);

        // The gateway ended the message where the server will, and reads what follows as commands: no PIPELINING
        // is needed for that, the MAIL waits for the message's reply like any command.
        String toBackend = smtp.toBackend();
        assertThat(toBackend).isEqualTo("Subject: hi\r\n\r\nhello" + normalized + "MAIL FROM:<evil@example>\r\n"
                + "RCPT TO:<victim@example>\r\nDATA\r\n");
        assertThat(toBackend.replace("\r\n", "")).doesNotContain("\r").doesNotContain("\n");
        smtp.backend("250 queued as 1\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n");
        assertThat(smtp.toBackend()).isEqualTo("From: ceo@example\r\n\r\nwire the money\r\n.\r\n");
        assertThat(smtp.channel.isOpen()).isTrue();
        assertThat(smtp.counter("gatehouse.smtp.bare.line.endings", "rule", "r1", "action", "normalized")).isEqualTo(1);
    }

    @Test
    void aStrictEndInTheMiddleOfADotStuffedLineIsNotAnEnd() {
        inMessage(TlsMode.NONE, BareLineEndings.REJECT);

        smtp.client("a\r\n..\r\n.x\r\n .\r\n.\r\n");

        assertThat(smtp.toBackend()).isEqualTo("a\r\n..\r\n.x\r\n .\r\n.\r\n");
        smtp.backend("250 queued\r\n");
        assertThat(smtp.toClient()).isEqualTo("250 queued\r\n");
    }

    @Test
    void aCrAtTheEndOfOneReadWaitsForTheNext() {
        inMessage(TlsMode.NONE, BareLineEndings.REJECT);

        smtp.client("line\r");
        assertThat(smtp.toBackend()).isEqualTo("line");
        smtp.client("\n.\r", "\n");

        assertThat(smtp.toBackend()).isEqualTo("\r\n.\r\n");
        assertThat(smtp.channel.isOpen()).isTrue();
    }

    /** Whatever the reads look like, the same bytes are passed on and the same end is found. */
    @Test
    void theBodyReaderGivesTheSameResultForEverySplit() {
        String message = "a\r\nb\nc\r.\rd\r\n.\r\nMAIL";
        for (boolean normalize : new boolean[]{false, true}) {
            Result whole = read(normalize, message);
            for (int cut = 1; cut < message.length(); cut++) {
                Result split = read(normalize, message.substring(0, cut), message.substring(cut));
                assertThat(split).as("normalize=%s cut=%d", normalize, cut).isEqualTo(whole);
            }
        }
        assertThat(read(true, message)).isEqualTo(new Result("a\r\nb\r\nc\r\n.\r\n", MessageBody.Step.END));
        assertThat(read(false, message)).isEqualTo(new Result("a\r\nb", MessageBody.Step.BARE_LINE_ENDING));
    }

    private static int firstBare(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean crlf = c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n';
            if (crlf) {
                i++;
            } else if (c == '\r' || c == '\n') {
                return i;
            }
        }
        return text.length();
    }

    private record Result(String forwarded, MessageBody.Step step) {
    }

    private static Result read(boolean normalize, String... parts) {
        MessageBody body = new MessageBody(normalize);
        StringBuilder forwarded = new StringBuilder();
        ByteBuf in = Unpooled.buffer();
        MessageBody.Step step = MessageBody.Step.MORE;
        List<ByteBuf> slices = new ArrayList<>();
        for (String part : parts) {
            in.writeBytes(part.getBytes(StandardCharsets.ISO_8859_1));
            step = body.read(in, slices::add);
            if (step != MessageBody.Step.MORE) {
                break;
            }
        }
        for (ByteBuf slice : slices) {
            forwarded.append(slice.toString(StandardCharsets.ISO_8859_1));
            slice.release();
        }
        in.release();
        return new Result(forwarded.toString(), step);
    }
}
