package org.gatehouse.rules.load;

import java.util.Collections;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gatehouse.rules.SourcePosition;

/**
 * A YAML document as a small tree that remembers where each node was written, which Jackson's own tree does not.
 */
sealed interface YamlNode {

    SourcePosition position();

    /** The word a message uses for this node's type: "a map", "a list", "a string", … */
    String kind();

    /** A mapping; keys keep the order they were written in. */
    record MapNode(Map<String, Entry> entries, SourcePosition position) implements YamlNode {
        public MapNode {
            entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
        }

        @Override
        public String kind() {
            return "a map";
        }
    }

    /** One key of a mapping with where the key itself was written. */
    record Entry(String key, SourcePosition keyPosition, YamlNode value) {
    }

    record ListNode(List<YamlNode> items, SourcePosition position) implements YamlNode {
        public ListNode {
            items = List.copyOf(items);
        }

        @Override
        public String kind() {
            return "a list";
        }
    }

    /** A scalar with its text and what YAML made of it. */
    record Scalar(String text, ScalarType type, SourcePosition position) implements YamlNode {
        @Override
        public String kind() {
            return switch (type) {
                case STRING -> "a string";
                case INTEGER -> "a number";
                case FLOAT -> "a number";
                case BOOLEAN -> "true/false";
                case NULL -> "nothing (null)";
            };
        }
    }

    enum ScalarType {
        STRING,
        INTEGER,
        FLOAT,
        BOOLEAN,
        NULL
    }
}
