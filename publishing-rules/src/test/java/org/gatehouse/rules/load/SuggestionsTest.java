package org.gatehouse.rules.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** "Did you mean": one guess when one known word is closest, none when two are equally close. */
class SuggestionsTest {

    @Test
    void theClosestWordIsSuggested() {
        assertThat(Suggestions.closest("pop", List.of("pop3", "imap", "smtp", "tcp"))).contains("pop3");
    }

    @Test
    void twoEquallyCloseWordsGiveNoGuessWhateverComesAfterThem() {
        // one edit from the first two, two from the third (within reach for a word of six letters): still a tie
        assertThat(Suggestions.closest("abcdef", List.of("abcdex", "abcdey", "abcdxy"))).isEmpty();
        assertThat(Suggestions.closest("abcdef", List.of("abcdxy", "abcdex", "abcdey"))).isEmpty();
    }

    @Test
    void aCloserWordBreaksAnEarlierTie() {
        assertThat(Suggestions.closest("abcdefg", List.of("abcdexy", "abcdeyx", "abcdefx"))).contains("abcdefx");
    }
}
