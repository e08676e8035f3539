package org.gatehouse.rules.match;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HostNameTest {

    @Test
    void lettersDigitsAndInnerHyphensInDotSeparatedLabelsAreAName() {
        assertThat(HostName.isValid("mail.example.com")).isTrue();
        assertThat(HostName.isValid("localhost")).isTrue();
        assertThat(HostName.isValid("xn--bcher-kva.example")).isTrue();
        assertThat(HostName.isValid("3com.example")).isTrue();
    }

    @Test
    void emptyLabelsOuterHyphensOtherCharactersAndLongLabelsAreNot() {
        assertThat(HostName.isValid("")).isFalse();
        assertThat(HostName.isValid("a..example")).isFalse();
        assertThat(HostName.isValid("-mail.example")).isFalse();
        assertThat(HostName.isValid("bad_name.example")).isFalse();
        assertThat(HostName.isValid("a".repeat(64) + ".example")).isFalse();
    }

    @Test
    void aMistypedAddressIsNotAName() {
        assertThat(HostName.isValid("10.0.0.256")).isFalse();
    }
}
