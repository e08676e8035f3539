package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

/** Where something was written in a rules file, as an editor shows it: 1-based line and column. */
public record SourcePosition(String file, int line, int column) {

    /** For things that were not read from a file (built in code, or the file as a whole). */
    public static SourcePosition unknown(String file) {
        return new SourcePosition(file, 0, 0);
    }

    public SourcePosition {
        requireNonNull(file, "file");
    }

    @Override
    public String toString() {
        return line > 0 ? file + ':' + line + ':' + column : file;
    }
}
