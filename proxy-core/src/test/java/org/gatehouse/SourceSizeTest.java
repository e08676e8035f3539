package org.gatehouse;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the house readable in one sitting per file: no main source file of publishing-rules, proxy-core or bench over
 * 500 lines, no method over 60 (counted
 * from the first line of its signature, annotations aside, to its closing brace). The counting is a brace scan over
 * tokens, with comments, strings, text blocks and char literals skipped; a lambda, local class or anonymous class
 * counts toward the method that holds it.
 */
class SourceSizeTest {

    private static final int MAX_FILE_LINES = 500;
    private static final int MAX_METHOD_LINES = 60;
    /** The modules' main sources, from proxy-core, where this test runs. */
    private static final List<Path> MAIN = List.of(Path.of("..", "publishing-rules", "src", "main", "java"),
            Path.of("src", "main", "java"), Path.of("..", "bench", "src", "main", "java"));

    @Test
    void noMainSourceFileIsOver500Lines() throws IOException {
        List<String> tooLong = new ArrayList<>();
        for (Path file : mainSources()) {
            int lines = Files.readAllLines(file).size();
            if (lines > MAX_FILE_LINES) {
                tooLong.add(file + ": " + lines + " lines (expected at most " + MAX_FILE_LINES + ")");
            }
        }
        assertThat(tooLong).isEmpty();
    }

    @Test
    void noMethodIsOver60Lines() throws IOException {
        List<String> tooLong = new ArrayList<>();
        for (Path file : mainSources()) {
            for (Method m : Scanner.methods(Files.readString(file))) {
                if (m.lines() > MAX_METHOD_LINES) {
                    tooLong.add(file + ":" + m.firstLine() + ": " + m.name() + " is " + m.lines()
                            + " lines (expected at most " + MAX_METHOD_LINES + ")");
                }
            }
        }
        assertThat(tooLong).isEmpty();
    }

    @Test
    void theScanCountsEachMethodFromItsSignatureToItsClosingBrace() {
        String source = """
                package x;

                /** A { in a comment. */
                @Deprecated
                final class A {
                    private static final String[] WORDS = { "{", "}" };
                    private final Runnable r = () -> {
                    };

                    @Override
                    public String toString() {
                        return "}" + '{';
                    }

                    record Point(int x, int y) {
                        Point {
                            // }
                        }
                    }

                    static <T> java.util.Map<String, T> twoLines(
                            T value) throws Exception {
                        String block = \"""
                                { } }
                                \""";
                        Runnable inner = new Runnable() {
                            public void run() {
                            }
                        };
                        return java.util.Map.of(block, value);
                    }

                    static {
                    }
                }
                """;

        assertThat(Scanner.methods(source)).containsExactly(
                new Method("toString", 11, 13),
                new Method("Point", 16, 18),
                new Method("twoLines", 21, 31),
                new Method("static initializer", 33, 34));
    }

    private static List<Path> mainSources() throws IOException {
        List<Path> sources = new ArrayList<>();
        for (Path root : MAIN) {
            try (Stream<Path> files = Files.walk(root)) {
                List<Path> found = files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
                assertThat(found).as("Java sources under " + root.toAbsolutePath()).isNotEmpty();
                sources.addAll(found);
            }
        }
        return sources;
    }

    /** A method, constructor or initializer body and the lines it spans. */
    record Method(String name, int firstLine, int lastLine) {
        int lines() {
            return lastLine - firstLine + 1;
        }
    }

    /** Java source as tokens, then the bodies of the members of every class, however deeply nested. */
    static final class Scanner {

        private static final Set<String> TYPE_KEYWORDS = Set.of("class", "interface", "enum", "record");

        private record Token(String text, int line) {
        }

        private final List<Token> tokens;
        private final List<Method> methods = new ArrayList<>();

        private Scanner(List<Token> tokens) {
            this.tokens = tokens;
        }

        static List<Method> methods(String source) {
            Scanner scanner = new Scanner(tokenize(source));
            scanner.typeBody(0);
            return scanner.methods;
        }

        /** Reads members from {@code i} to the brace that closes the body; returns the index after it. */
        private int typeBody(int i) {
            int header = i;
            while (i < tokens.size()) {
                switch (tokens.get(i).text()) {
                    case "}" -> {
                        return i + 1;
                    }
                    case ";" -> header = ++i;
                    case "(" -> i = skip(i, "(", ")");
                    case "{" -> {
                        List<Token> h = tokens.subList(header, i);
                        if (declaresType(h)) {
                            i = typeBody(i + 1);
                            header = i;
                        } else if (assigns(h)) {
                            i = skip(i, "{", "}"); // a field's initializer: an array, a lambda, an anonymous class
                        } else {
                            int end = skip(i, "{", "}");
                            methods.add(new Method(name(h), firstLine(h, tokens.get(i)), tokens.get(end - 1).line()));
                            i = end;
                            header = i;
                        }
                    }
                    default -> i++;
                }
            }
            return i;
        }

        /** The index after the {@code close} that matches the {@code open} at {@code i}. */
        private int skip(int i, String open, String close) {
            int depth = 0;
            do {
                String t = tokens.get(i).text();
                depth += t.equals(open) ? 1 : t.equals(close) ? -1 : 0;
                i++;
            } while (depth > 0 && i < tokens.size());
            return i;
        }

        private static boolean declaresType(List<Token> header) {
            for (int i = 0; i + 1 < header.size(); i++) {
                if (TYPE_KEYWORDS.contains(header.get(i).text()) && isIdentifier(header.get(i + 1).text())
                        && (i == 0 || !header.get(i - 1).text().equals("."))) {
                    return true;
                }
            }
            return false;
        }

        private static boolean assigns(List<Token> header) {
            int depth = 0;
            for (Token t : header) {
                depth += t.text().equals("(") ? 1 : t.text().equals(")") ? -1 : 0;
                if (depth == 0 && t.text().equals("=")) {
                    return true;
                }
            }
            return false;
        }

        /** The identifier before the parameter list; a compact constructor's type name; or an initializer. */
        private static String name(List<Token> header) {
            List<Token> h = header.subList(annotations(header), header.size());
            String last = null;
            for (Token t : h) {
                if (t.text().equals("(")) {
                    return last;
                }
                if (isIdentifier(t.text()) && !t.text().equals("static")) {
                    last = t.text();
                }
            }
            return last != null ? last : h.isEmpty() ? "initializer" : "static initializer";
        }

        private static int firstLine(List<Token> header, Token brace) {
            int start = annotations(header);
            return start < header.size() ? header.get(start).line() : brace.line();
        }

        /** How many tokens the annotations at the start of a header take. */
        private static int annotations(List<Token> header) {
            int i = 0;
            while (i + 1 < header.size() && header.get(i).text().equals("@")) {
                i += 2;
                while (i + 1 < header.size() && header.get(i).text().equals(".")) {
                    i += 2;
                }
                if (i < header.size() && header.get(i).text().equals("(")) {
                    int depth = 0;
                    do {
                        depth += header.get(i).text().equals("(") ? 1 : header.get(i).text().equals(")") ? -1 : 0;
                        i++;
                    } while (depth > 0 && i < header.size());
                }
            }
            return i;
        }

        private static boolean isIdentifier(String text) {
            return !text.isEmpty() && Character.isJavaIdentifierStart(text.charAt(0));
        }

        /** Identifiers, numbers and one-character symbols; comments dropped, literals reduced to a placeholder. */
        private static List<Token> tokenize(String s) {
            List<Token> out = new ArrayList<>();
            int line = 1;
            int i = 0;
            while (i < s.length()) {
                char c = s.charAt(i);
                int start = i;
                if (s.startsWith("//", i)) {
                    i = s.indexOf('\n', i) < 0 ? s.length() : s.indexOf('\n', i);
                } else if (s.startsWith("/*", i)) {
                    int end = s.indexOf("*/", i + 2);
                    i = end < 0 ? s.length() : end + 2;
                } else if (s.startsWith("\"\"\"", i)) {
                    i = literalEnd(s, i + 3, "\"\"\"");
                    out.add(new Token("\"\"", line));
                } else if (c == '"' || c == '\'') {
                    i = literalEnd(s, i + 1, String.valueOf(c));
                    out.add(new Token("\"\"", line));
                } else if (Character.isJavaIdentifierPart(c)) {
                    while (i < s.length() && Character.isJavaIdentifierPart(s.charAt(i))) {
                        i++;
                    }
                    out.add(new Token(s.substring(start, i), line));
                } else {
                    i++;
                    if (!Character.isWhitespace(c)) {
                        out.add(new Token(String.valueOf(c), line));
                    }
                }
                line += (int) s.substring(start, i).chars().filter(ch -> ch == '\n').count();
            }
            return out;
        }

        /** The index after the {@code close} that ends a literal whose content starts at {@code i}. */
        private static int literalEnd(String s, int i, String close) {
            while (i < s.length() && !s.startsWith(close, i)) {
                i += s.charAt(i) == '\\' ? 2 : 1;
            }
            return Math.min(i + close.length(), s.length());
        }
    }
}
