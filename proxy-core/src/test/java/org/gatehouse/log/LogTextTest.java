package org.gatehouse.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogTextTest {

    @Test
    void plainTextIsUnchanged() {
        assertThat(LogText.clean("alice@example.com")).isEqualTo("alice@example.com");
        assertThat(LogText.clean("Jürgen Müller")).isEqualTo("Jürgen Müller");
        assertThat(LogText.clean("\"quoted\" text")).isEqualTo("\"quoted\" text");
    }

    @Test
    void controlCharactersAndBackslashesAreEscaped() {
        assertThat(LogText.clean("a\tb\r\nc\u001b[31md\0e\u007f")).isEqualTo("a\\x09b\\x0d\\x0ac\\x1b[31md\\x00e\\x7f");
        assertThat(LogText.clean("a\\x0ab")).as("an escape written by the client stays visible as such")
                .isEqualTo("a\\\\x0ab");
        assertThat(LogText.clean("\u0085next")).isEqualTo("\\x85next");
    }

    @Test
    void directionAndFormatCharactersAreEscaped() {
        assertThat(LogText.clean("admin\u202egnp.exe")).isEqualTo("admin\\u202egnp.exe");
        assertThat(LogText.clean("a\u2028b\u200bc")).isEqualTo("a\\u2028b\\u200bc");
    }

    @Test
    void longValuesAreCut() {
        assertThat(LogText.clean("x".repeat(1000))).hasSize(LogText.MAX_CHARS + 3).endsWith("...");
        assertThat(LogText.clean("\n".repeat(1000), 10)).isEqualTo("\\x0a".repeat(10) + "...");
    }
}
