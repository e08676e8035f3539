package org.gatehouse.rules.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.ListNode;
import org.gatehouse.rules.load.YamlNode.MapNode;
import org.gatehouse.rules.load.YamlNode.Scalar;
import org.gatehouse.rules.load.YamlNode.ScalarType;

/** Typed access to a {@link YamlNode} tree that records a {@link Problem} for every mismatch instead of stopping. */
final class NodeReader {

    private final List<Problem> problems;

    NodeReader(List<Problem> problems) {
        this.problems = problems;
    }

    void problem(SourcePosition pos, String path, String message) {
        problems.add(new Problem(pos, path, message));
    }

    static String child(String path, String key) {
        return path.isEmpty() ? key : path + '.' + key;
    }

    static String index(String path, int i) {
        return path + '[' + i + ']';
    }

    Optional<MapNode> map(YamlNode node, String path) {
        if (node instanceof MapNode m) {
            return Optional.of(m);
        }
        problem(node.position(), path, "expected a map of keys, found " + node.kind());
        return Optional.empty();
    }

    /** Reports every key of {@code map} not in {@code allowed}. */
    void onlyKeys(MapNode map, String path, Set<String> allowed) {
        for (Entry e : map.entries().values()) {
            if (!allowed.contains(e.key())) {
                problem(e.keyPosition(), child(path, e.key()), "unknown key \"" + e.key() + "\" (expected one of: "
                        + String.join(", ", new TreeSet<>(allowed)) + ")");
            }
        }
    }

    Optional<Entry> entry(MapNode map, String key) {
        return Optional.ofNullable(map.entries().get(key));
    }

    /** A required key; reports its absence at the map's position. */
    Optional<Entry> required(MapNode map, String path, String key) {
        Entry e = map.entries().get(key);
        if (e == null || isNull(e.value())) {
            problem(e == null ? map.position() : e.value().position(), child(path, key), "is required");
            return Optional.empty();
        }
        return Optional.of(e);
    }

    static boolean isNull(YamlNode node) {
        return node instanceof Scalar s && s.type() == ScalarType.NULL;
    }

    /** A scalar read as text; numbers are accepted as their text, lists and maps are not. */
    Optional<Scalar> text(YamlNode node, String path) {
        if (node instanceof Scalar s && s.type() != ScalarType.NULL && s.type() != ScalarType.BOOLEAN) {
            if (s.text().isBlank()) {
                problem(node.position(), path, "is empty (expected a value)");
                return Optional.empty();
            }
            return Optional.of(s);
        }
        problem(node.position(), path, "expected a string, found " + node.kind());
        return Optional.empty();
    }

    Optional<Boolean> bool(YamlNode node, String path) {
        if (node instanceof Scalar s && s.type() == ScalarType.BOOLEAN) {
            return Optional.of(Boolean.parseBoolean(s.text().toLowerCase(java.util.Locale.ROOT)));
        }
        problem(node.position(), path, "expected true or false, found " + describe(node));
        return Optional.empty();
    }

    /** A string value with where it was written and its key path. */
    record Item(String text, SourcePosition position, String path) {
    }

    /** A list of strings; a single string is taken as a list of one. */
    List<Item> textList(YamlNode node, String path) {
        List<Item> out = new ArrayList<>();
        if (node instanceof ListNode list) {
            for (int i = 0; i < list.items().size(); i++) {
                String itemPath = index(path, i);
                text(list.items().get(i), itemPath).ifPresent(s -> out.add(new Item(s.text(), s.position(), itemPath)));
            }
        } else if (node instanceof Scalar s && s.type() != ScalarType.NULL) {
            text(s, path).ifPresent(t -> out.add(new Item(t.text(), t.position(), path)));
        } else {
            problem(node.position(), path, "expected a list of strings, found " + node.kind());
        }
        return out;
    }

    static String describe(YamlNode node) {
        return node instanceof Scalar s && s.type() != ScalarType.NULL ? node.kind() + " \"" + s.text() + '"' : node.kind();
    }
}
