package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * A passphrase or password that never sits in the rules file: the file says where to read it, and the gateway reads it
 * when it loads the key (at start and on each reload).
 */
public sealed interface Secret {

    /** What a message may say about it: where it comes from, never its value. */
    String describe();

    /** An environment variable of the gateway's process. */
    record Environment(String variable) implements Secret {
        public Environment {
            requireNonNull(variable, "variable");
        }

        @Override
        public String describe() {
            return "environment variable " + variable;
        }
    }

    /** A file whose content (without a trailing line break) is the secret. */
    record File(Path path) implements Secret {
        public File {
            requireNonNull(path, "path");
        }

        @Override
        public String describe() {
            return "file " + path;
        }
    }
}
