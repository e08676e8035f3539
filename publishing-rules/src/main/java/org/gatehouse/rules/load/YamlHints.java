package org.gatehouse.rules.load;

import java.util.List;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.SourcePosition;

/**
 * YAML syntax errors in an administrator's words: what is wrong with the line and how to fix it, at the place it is
 * wrong, instead of the parser's own terms ("expected &lt;block end&gt;, but found '&lt;block mapping start&gt;'").
 * A tab is reported where it is (the parser marks the end of the line before it). Errors not recognised keep the
 * parser's text.
 */
final class YamlHints {

    private YamlHints() {
    }

    /**
     * @param line   the parser's line (1-based)
     * @param column the parser's column (1-based)
     * @param raw    the parser's message, summarised (one line)
     */
    static Problem problem(String text, String fileName, int line, int column, String raw) {
        List<String> lines = text.lines().toList();
        if (raw.contains("(TAB)") || raw.contains("'\\t'")) {
            for (int n = Math.max(0, line - 1); n < lines.size(); n++) {
                int tab = lines.get(n).indexOf('\t');
                if (tab >= 0) {
                    return new Problem(new SourcePosition(fileName, n + 1, tab + 1), "",
                            "a tab character: YAML indents with spaces only (replace the tab with spaces)");
                }
            }
        }
        SourcePosition at = new SourcePosition(fileName, line, column);
        return new Problem(at, "", hint(lines, line, column, raw));
    }

    private static String hint(List<String> lines, int line, int column, String raw) {
        if (raw.contains("expected <block end>") || raw.contains("did not find expected key")) {
            return "indentation: this line starts at column " + indentOf(lines, line) + ", which lines up with "
                    + "no key or list item above it; keys of one map start in the same column"
                    + above(lines, line);
        }
        if (raw.contains("did not find expected '-' indicator")) {
            return "indentation: an item of a list starts with \"- \" in the same column as the items above it"
                    + above(lines, line);
        }
        if (raw.contains("mapping values are not allowed here")) {
            return "a second \": \" on the line: quote a value that contains \": \" (\"a: b\"), or check the "
                    + "indentation of this line and the one above";
        }
        if (raw.contains("could not find expected ':'")) {
            return "a line that is not \"key: value\": a key needs \": \" after it, or a quote opened above is "
                    + "never closed";
        }
        if (raw.contains("quoted scalar")) {
            return "a quote opened here is never closed (close it on the same line, or quote the value with the "
                    + "other kind of quote)";
        }
        if (raw.contains("flow sequence")) {
            return "a [ list is not closed with ], or two of its items lack a comma between them"
                    + opened(lines, line, column, '[', ']');
        }
        if (raw.contains("flow mapping")) {
            return "a { map is not closed with }, or two of its entries lack a comma between them"
                    + opened(lines, line, column, '{', '}');
        }
        return "YAML syntax error: " + raw;
    }

    /** Where the bracket still open at the error was opened (quotes not considered: a hint, not a parse). */
    private static String opened(List<String> lines, int line, int column, char open, char close) {
        int depth = 0;
        for (int n = Math.min(line, lines.size()) - 1; n >= 0; n--) {
            String s = lines.get(n);
            for (int i = (n == line - 1 ? Math.min(column - 1, s.length()) : s.length()) - 1; i >= 0; i--) {
                if (s.charAt(i) == close) {
                    depth++;
                } else if (s.charAt(i) == open && depth-- == 0) {
                    return " (the one opened at line " + (n + 1) + ", column " + (i + 1) + ")";
                }
            }
        }
        return "";
    }

    /** The 1-based column where a line's text starts. */
    private static int indentOf(List<String> lines, int line) {
        if (line < 1 || line > lines.size()) {
            return 1;
        }
        String s = lines.get(line - 1);
        int i = 0;
        while (i < s.length() && s.charAt(i) == ' ') {
            i++;
        }
        return i + 1;
    }

    /** Where the nearest line above with content starts its keys, to line up with. */
    private static String above(List<String> lines, int line) {
        for (int n = Math.min(line - 1, lines.size()) - 1; n >= 0; n--) {
            String s = lines.get(n).strip();
            if (s.isEmpty() || s.startsWith("#")) {
                continue;
            }
            int key = indentOf(lines, n + 1) + (s.startsWith("- ") ? 2 : 0);
            return " (line " + (n + 1) + " has its key at column " + key + ")";
        }
        return "";
    }
}
