package org.gatehouse.mail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line of an IMAP command (RFC 9051 §9): the first line holds the tag, the command name and the start of the
 * arguments; a line after a literal continues the arguments. Read the way the most lenient server reads it: any run of
 * whitespace separates, whitespace before the tag is skipped, the name in any case, and a name that only starts with
 * {@code LOGIN} or {@code AUTHENTICATE} is that login command.
 *
 * <p>The arguments are read with the grammar's atoms, quoted strings (with their escapes) and parentheses, so a literal
 * announced at the end of the line is known to be one only when it stands where an argument starts, outside a quoted
 * string, in the exact form {@code {n}}, {@code {n+}}, {@code ~{n}} or {@code ~{n+}}. A line that ends with anything
 * else in braces is {@link #ambiguous()}: some server could read a literal there and another not, and the bytes after
 * it would be a command to one and data to the other.
 */
final class ImapLine {

    /** The commands of a login (RFC 9051 §6.2.2, §6.2.3). */
    static final Set<String> LOGIN_COMMANDS = Set.of("LOGIN", "AUTHENTICATE");

    /** A literal announced at the end of a line. */
    record Literal(long size, boolean synchronizing, boolean binary) {
    }

    /** An argument: an atom, a quoted string (its value, unescaped), or the literal that ends the line. */
    record Argument(String text, boolean quoted, boolean literal) {
    }

    /** Braces at the end of the line, in any form: a literal to some server. */
    private static final Pattern TRAILING_BRACES = Pattern.compile("~?\\{[^{}]*\\}$");
    /** The one form of a literal every server reads the same way (RFC 9051 literal and literal8, RFC 7888 "+"). */
    private static final Pattern LITERAL = Pattern.compile("(~?)\\{(\\d{1,18})(\\+?)\\}");

    private final String tag;
    private final String name;
    private final boolean exact;
    private final List<Argument> arguments;
    private final Literal literal;
    private final boolean ambiguous;

    private ImapLine(String tag, String name, boolean exact, List<Argument> arguments, Literal literal,
            boolean ambiguous) {
        this.tag = tag;
        this.name = name;
        this.exact = exact;
        this.arguments = List.copyOf(arguments);
        this.literal = literal;
        this.ambiguous = ambiguous;
    }

    /** The first line of a command. */
    static ImapLine command(String line) {
        int tagStart = CommandWords.skipSpaces(line, 0);
        int tagEnd = CommandWords.wordEnd(line, tagStart);
        int nameStart = CommandWords.skipSpaces(line, tagEnd);
        int nameEnd = CommandWords.wordEnd(line, nameStart);
        String tag = line.substring(tagStart, tagEnd);
        String word = line.substring(nameStart, nameEnd);
        String login = CommandWords.loginVerb(word, LOGIN_COMMANDS);
        String name = login != null ? login : word.toUpperCase(Locale.ROOT);
        boolean exact = login == null || CommandWords.exactly(word, login);
        return read(line, nameEnd, tag, name, exact);
    }

    /** A line that continues a command after one of its literals. */
    static ImapLine continuation(String line) {
        return read(line, 0, "", "", true);
    }

    private static ImapLine read(String line, int from, String tag, String name, boolean exact) {
        List<Argument> arguments = new ArrayList<>();
        Matcher braces = TRAILING_BRACES.matcher(line);
        int marker = braces.find() ? braces.start() : -1;
        if (marker >= 0 && (marker < from || marker == 0
                || !(CommandWords.isSpace(line.charAt(marker - 1)) || line.charAt(marker - 1) == '('))) {
            // In the tag or the name, or glued to what precedes it ("user{5}", "\"x\"{5}", a literal's last byte):
            // not where an argument starts.
            marker = -2;
        }
        Literal literal = null;
        int i = from;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (CommandWords.isSpace(c) || c == '(' || c == ')') {
                i++;
            } else if (i == marker) {
                Matcher m = LITERAL.matcher(line).region(i, line.length());
                if (m.matches()) {
                    literal = new Literal(Long.parseLong(m.group(2)), m.group(3).isEmpty(), !m.group(1).isEmpty());
                    arguments.add(new Argument("", false, true));
                }
                break;
            } else if (c == '"') {
                StringBuilder value = new StringBuilder();
                int j = i + 1;
                boolean closed = false;
                while (j < line.length()) {
                    char q = line.charAt(j);
                    if (q == '\\' && j + 1 < line.length()) {
                        value.append(line.charAt(j + 1));
                        j += 2;
                    } else if (q == '"') {
                        closed = true;
                        j++;
                        break;
                    } else {
                        value.append(q);
                        j++;
                    }
                }
                arguments.add(new Argument(value.toString(), true, false));
                i = j;
                if (!closed) {
                    break;
                }
            } else {
                int j = i;
                while (j < line.length() && !CommandWords.isSpace(line.charAt(j)) && line.charAt(j) != '('
                        && line.charAt(j) != ')' && line.charAt(j) != '"') {
                    j++;
                }
                arguments.add(new Argument(line.substring(i, j), false, false));
                i = j;
            }
        }
        boolean ambiguous = marker != -1 && literal == null;
        return new ImapLine(tag, name, exact, arguments, literal, ambiguous);
    }

    String tag() {
        return tag;
    }

    /** The command name, upper case; empty on a continuation line. */
    String name() {
        return name;
    }

    /** Whether the name was written as such (false for a name that only starts with a login command's). */
    boolean exact() {
        return exact;
    }

    boolean isLogin() {
        return LOGIN_COMMANDS.contains(name);
    }

    List<Argument> arguments() {
        return arguments;
    }

    /** The literal announced at the end of the line, or null. */
    Literal literal() {
        return literal;
    }

    /** Whether the line ends with braces that are not a literal in the one form every server reads alike. */
    boolean ambiguous() {
        return ambiguous;
    }

    /** The argument at {@code index}, or null. */
    Argument argument(int index) {
        return index < arguments.size() ? arguments.get(index) : null;
    }
}
