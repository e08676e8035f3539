package org.gatehouse.mail;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The three tokenizers read commands the way the most lenient server would. */
class CommandTokenizersTest {

    @ParameterizedTest
    @ValueSource(strings = {"AUTH PLAIN abc", "AUTH\tPLAIN abc", " AUTH PLAIN abc", "\t auth  plain\tabc ",
            "Auth\u000bPlain abc", "AUTH PLAIN\tabc"})
    void smtpAuthIsReadWithAnyWhitespaceAndCase(String line) {
        SmtpCommand command = SmtpCommand.parse(line);

        assertThat(command.verb()).isEqualTo("AUTH");
        assertThat(command.isLogin()).isTrue();
        assertThat(command.exact()).isTrue();
        assertThat(command.mechanism()).isEqualTo("PLAIN");
        assertThat(command.initialResponse()).isEqualTo("abc");
    }

    @ParameterizedTest
    @ValueSource(strings = {"AUTH=PLAIN abc", "AUTHX PLAIN abc", "auth:plain", "X-EXPS=LOGIN", "AUTHENTICATE PLAIN"})
    void smtpWordsThatOnlyStartWithALoginVerbAreLoginsWithAnUnknownMechanism(String line) {
        SmtpCommand command = SmtpCommand.parse(line);

        assertThat(command.isLogin()).isTrue();
        assertThat(command.exact()).isFalse();
        assertThat(command.mechanism()).isEmpty();
        assertThat(command.initialResponse()).isNull();
    }

    @Test
    void smtpOtherCommandsKeepTheirWords() {
        SmtpCommand command = SmtpCommand.parse("  bdat\t100   LAST");

        assertThat(command.verb()).isEqualTo("BDAT");
        assertThat(command.isLogin()).isFalse();
        assertThat(command.argument(0)).isEqualTo("100");
        assertThat(command.argument(1)).isEqualTo("LAST");
        assertThat(command.argument(2)).isEmpty();
        assertThat(SmtpCommand.parse("").verb()).isEmpty();
        assertThat(SmtpCommand.parse("MAIL FROM:<a@b> AUTH=<>").isLogin()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"USER alice", "user alice", " USER\talice", "USERNAME alice", "User  alice  "})
    void pop3UserInAnyForm(String line) {
        Pop3Command command = Pop3Command.parse(line);

        assertThat(command.keyword()).isEqualTo("USER");
        assertThat(command.argument()).isEqualTo("alice");
    }

    @Test
    void pop3PasswordKeepsItsSpacesAndAuthItsParts() {
        assertThat(Pop3Command.parse("PASS  my secret words").words()).containsExactly("PASS", "my", "secret words");
        assertThat(Pop3Command.parse("PASSWORD x").keyword()).isEqualTo("PASS");
        assertThat(Pop3Command.parse("PASSWORD x").exact()).isFalse();
        Pop3Command auth = Pop3Command.parse("auth\tplain  dGVzdA==");
        assertThat(auth.mechanism()).isEqualTo("PLAIN");
        assertThat(auth.secondArgument()).isEqualTo("dGVzdA==");
        assertThat(Pop3Command.parse("AUTHX PLAIN x").mechanism()).isEmpty();
        assertThat(Pop3Command.parse("CAPA").keyword()).isEqualTo("CAPA");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a LOGIN alice secret", "a\tLOGIN alice secret", " a login alice secret",
            "a  LOGIN \"alice\" secret", "a LOGINX alice secret"})
    void imapLoginInAnyForm(String line) {
        ImapLine command = ImapLine.command(line);

        assertThat(command.tag()).isEqualTo("a");
        assertThat(command.name()).isEqualTo("LOGIN");
        assertThat(command.isLogin()).isTrue();
        assertThat(command.argument(0).text()).isEqualTo("alice");
        assertThat(command.literal()).isNull();
        assertThat(command.ambiguous()).isFalse();
    }

    @Test
    void imapQuotedStringsAreUnescapedAndLiteralsRecognised() {
        ImapLine quoted = ImapLine.command("a1 LOGIN \"al\\\"ice\" \"p w\"");
        assertThat(quoted.argument(0).text()).isEqualTo("al\"ice");
        assertThat(quoted.argument(1).text()).isEqualTo("p w");

        assertThat(ImapLine.command("a LOGIN {5}").literal()).isEqualTo(new ImapLine.Literal(5, true, false));
        assertThat(ImapLine.command("a LOGIN {5}").argument(0).literal()).isTrue();
        assertThat(ImapLine.command("a APPEND box (\\Seen) {12+}").literal())
                .isEqualTo(new ImapLine.Literal(12, false, false));
        assertThat(ImapLine.command("a APPEND box ~{7}").literal()).isEqualTo(new ImapLine.Literal(7, true, true));
        assertThat(ImapLine.command("a ID ({3}").literal()).isEqualTo(new ImapLine.Literal(3, true, false));
        assertThat(ImapLine.continuation(" {8}").literal()).isEqualTo(new ImapLine.Literal(8, true, false));
        assertThat(ImapLine.continuation("").literal()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a NOOP \"x {5+}", "a NOOP {5-}", "a NOOP { 5}", "a NOOP {5 +}", "a NOOP user{5}",
            "a NOOP \"x\"{5}", "a NOOP {99999999999999999999}", "{5}", "a {5}", "a NOOP {}", "a NOOP {x}"})
    void imapBracesThatAreNotALiteralEveryServerReadsAlikeAreAmbiguous(String line) {
        ImapLine command = ImapLine.command(line);

        assertThat(command.literal()).isNull();
        assertThat(command.ambiguous()).isTrue();
    }

    @Test
    void imapBracesInsideAClosedQuotedStringAreText() {
        ImapLine command = ImapLine.command("a LOGIN \"{5}\" pw");

        assertThat(command.ambiguous()).isFalse();
        assertThat(command.argument(0).text()).isEqualTo("{5}");
        assertThat(ImapLine.continuation("{5}").ambiguous()).as("glued to the literal before it").isTrue();
    }
}
