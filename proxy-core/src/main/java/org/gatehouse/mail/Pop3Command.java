package org.gatehouse.mail;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A POP3 command line (RFC 1939) as the most lenient server reads it: words split on any run of whitespace, whitespace
 * before the keyword skipped, the keyword in any case. A keyword that a server comparing only the first four letters
 * would take for a login keyword ({@code USERNAME}, {@code PASSWORD}, {@code AUTHX}) is that login keyword.
 *
 * @param keyword upper case; a login keyword when the word only starts with one
 * @param exact   whether the keyword was written as such
 * @param words   every word of the line, the keyword as written first; the last holds the rest of the line, so a
 *                password with spaces stays whole
 */
record Pop3Command(String keyword, boolean exact, List<String> words) {

    /** The keywords of a login: USER/PASS, APOP (RFC 1939) and AUTH (RFC 5034). */
    static final Set<String> LOGIN_KEYWORDS = Set.of("USER", "PASS", "APOP", "AUTH");

    Pop3Command {
        words = List.copyOf(words);
    }

    static Pop3Command parse(String line) {
        List<String> words = CommandWords.split(line, 3);
        if (words.isEmpty()) {
            return new Pop3Command("", true, words);
        }
        String first = words.get(0);
        String login = CommandWords.loginVerb(first, LOGIN_KEYWORDS);
        if (login != null) {
            return new Pop3Command(login, CommandWords.exactly(first, login), words);
        }
        return new Pop3Command(first.toUpperCase(Locale.ROOT), true, words);
    }

    /** The first argument, or empty. */
    String argument() {
        return words.size() > 1 ? words.get(1) : "";
    }

    /** Everything after the first argument, or null. */
    String secondArgument() {
        return words.size() > 2 ? words.get(2) : null;
    }

    /** An AUTH's mechanism as written, upper case; empty when the keyword was not written as such. */
    String mechanism() {
        return exact ? argument().toUpperCase(Locale.ROOT) : "";
    }
}
