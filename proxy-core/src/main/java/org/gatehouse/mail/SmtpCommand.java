package org.gatehouse.mail;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * An SMTP command line (RFC 5321 §4.1.1) as the most lenient of Postfix, Exim, Sendmail and Exchange reads it: words
 * split on any run of whitespace, whitespace before the verb skipped, the verb in any case. A verb that a server could
 * take for {@code AUTH} (or Exchange's {@code X-EXPS}) is a login whatever follows it: {@code AUTH=PLAIN} and
 * {@code AUTHX} are read as {@code AUTH} with a mechanism nobody knows, which counts as one that sends the password;
 * likewise {@code DATAX} is read as {@code DATA}, since the server may take the message that follows.
 *
 * @param verb  upper case; a login verb when the word only starts with one
 * @param exact whether the verb was written as such (false for {@code AUTH=PLAIN}, {@code DATAX} and the like)
 * @param words every word of the line, the verb as written first
 */
record SmtpCommand(String verb, boolean exact, List<String> words) {

    /** The verbs that start a login: RFC 4954's, and the one Exchange uses between its servers. */
    static final Set<String> LOGIN_VERBS = Set.of("AUTH", "X-EXPS");
    /**
     * The verbs after which the server reads data rather than commands: a word that starts with one is read as it, as
     * a server comparing four letters would ({@code DATAX}).
     */
    static final Set<String> DATA_VERBS = Set.of("DATA", "BDAT");

    SmtpCommand {
        words = List.copyOf(words);
    }

    static SmtpCommand parse(String line) {
        List<String> words = CommandWords.split(line, Integer.MAX_VALUE);
        if (words.isEmpty()) {
            return new SmtpCommand("", true, words);
        }
        String first = words.get(0);
        String login = CommandWords.loginVerb(first, LOGIN_VERBS);
        if (login != null) {
            return new SmtpCommand(login, CommandWords.exactly(first, login), words);
        }
        String data = CommandWords.loginVerb(first, DATA_VERBS);
        if (data != null) {
            return new SmtpCommand(data, CommandWords.exactly(first, data), words);
        }
        return new SmtpCommand(first.toUpperCase(Locale.ROOT), true, words);
    }

    boolean isLogin() {
        return LOGIN_VERBS.contains(verb);
    }

    /** The word after the verb, or empty. */
    String argument(int index) {
        return words.size() > index + 1 ? words.get(index + 1) : "";
    }

    /** A login's mechanism as written, upper case; empty when the verb was not written as such. */
    String mechanism() {
        return exact ? argument(0).toUpperCase(Locale.ROOT) : "";
    }

    /** A login's initial response (RFC 4954), or null. */
    String initialResponse() {
        return exact && words.size() > 2 ? words.get(2) : null;
    }
}
