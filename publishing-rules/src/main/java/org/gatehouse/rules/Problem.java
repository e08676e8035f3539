package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

/**
 * One thing wrong (or worth a warning) in a rules file.
 *
 * @param position where it was written
 * @param path     the key path inside the file, such as {@code rules[2].access.allow[1]}; empty for the file itself
 * @param message  what was found and what was expected
 */
public record Problem(SourcePosition position, String path, String message) {

    public Problem {
        requireNonNull(position, "position");
        requireNonNull(path, "path");
        requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return path.isEmpty() ? position + ": " + message : position + ": " + path + ": " + message;
    }
}
