package org.gatehouse.mail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How the most lenient mail servers cut a command line into words, shared by the three protocols' tokenizers: any run
 * of SP, HTAB, VT or FF separates words (C's {@code isspace} without CR and LF, which end lines), whitespace before the
 * first word is skipped, and verbs are compared without regard to case.
 */
final class CommandWords {

    private CommandWords() {
    }

    static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == 0x0b || c == 0x0c;
    }

    /** Index of the first non-space character at or after {@code from}; the length when there is none. */
    static int skipSpaces(String line, int from) {
        int i = from;
        while (i < line.length() && isSpace(line.charAt(i))) {
            i++;
        }
        return i;
    }

    /** Index of the first space at or after {@code from}; the length when there is none. */
    static int wordEnd(String line, int from) {
        int i = from;
        while (i < line.length() && !isSpace(line.charAt(i))) {
            i++;
        }
        return i;
    }

    /**
     * Up to {@code max} words of {@code line}; the last one holds the rest of the line from its first non-space
     * character, trailing spaces removed, so an argument that may contain spaces (a POP3 password) stays whole.
     */
    static List<String> split(String line, int max) {
        List<String> words = new ArrayList<>(Math.min(max, 8));
        int i = skipSpaces(line, 0);
        while (i < line.length() && words.size() < max - 1) {
            int end = wordEnd(line, i);
            words.add(line.substring(i, end));
            i = skipSpaces(line, end);
        }
        if (i < line.length()) {
            int end = line.length();
            while (end > i && isSpace(line.charAt(end - 1))) {
                end--;
            }
            words.add(line.substring(i, end));
        }
        return words;
    }

    /**
     * The verb among {@code verbs} a lenient server could read in {@code word}: the verb itself (any case), or a word
     * that only starts with it ({@code AUTH=PLAIN}, {@code USERNAME}, {@code DATAX}), as a server that compares the
     * first four letters, or stops at punctuation, would read it. Null when none could be read.
     */
    static String loginVerb(String word, Set<String> verbs) {
        String upper = word.toUpperCase(Locale.ROOT);
        for (String verb : verbs) {
            if (upper.startsWith(verb)) {
                return verb;
            }
        }
        return null;
    }

    /** Whether {@code word} is exactly {@code verb}, in any case. */
    static boolean exactly(String word, String verb) {
        return word.equalsIgnoreCase(verb);
    }
}
