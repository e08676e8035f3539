package org.gatehouse.rules.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
                String hint = Suggestions.closest(e.key(), allowed).map(k -> "did you mean " + k + "? ").orElse("");
                problem(e.keyPosition(), child(path, e.key()), "unknown key \"" + e.key() + "\" (" + hint
                        + "expected one of: " + String.join(", ", new TreeSet<>(allowed)) + ")");
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
            return Optional.of(Boolean.parseBoolean(s.text().toLowerCase(Locale.ROOT)));
        }
        problem(node.position(), path, "expected true or false, found " + describe(node));
        return Optional.empty();
    }

    private static final Pattern DURATION_PART = Pattern
            .compile("(\\d{1,9})(ms|s|m|h|d)");

    /**
     * A duration written with units, as {@code 500ms}, {@code 2s}, {@code 5m}, {@code 1h}, {@code 1d} or a sum such as
     * {@code 1h30m}; a bare number is refused, since its unit would be a guess.
     */
    Optional<Duration> duration(YamlNode node, String path, Duration min, Duration max) {
        if (!(node instanceof Scalar s) || (s.type() != ScalarType.STRING && s.type() != ScalarType.INTEGER)) {
            problem(node.position(), path, "expected a duration such as 500ms, 2s, 5m or 1h, found " + describe(node));
            return Optional.empty();
        }
        String text = s.text().trim();
        Matcher m = DURATION_PART.matcher(text);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            });
            end = m.end();
        }
        if (end == 0 || end != text.length()) {
            problem(s.position(), path,
                    '"' + text + "\" is not a duration (expected a number and a unit: 500ms, 2s, 5m, 1h, 1d)");
            return Optional.empty();
        }
        if (total.compareTo(min) < 0 || total.compareTo(max) > 0) {
            problem(s.position(), path, text + " is out of range (expected " + show(min) + " to " + show(max) + ")");
            return Optional.empty();
        }
        return Optional.of(total);
    }

    static String show(Duration d) {
        return d.isZero() ? "0s" : d.toString().substring(2).toLowerCase(Locale.ROOT);
    }

    /** A whole number from {@code min} to {@code max}. */
    Optional<Integer> integer(YamlNode node, String path, int min, int max) {
        if (node instanceof Scalar s && s.type() == ScalarType.INTEGER) {
            try {
                long n = Long.parseLong(s.text().replace("_", ""));
                if (n >= min && n <= max) {
                    return Optional.of((int) n);
                }
            } catch (NumberFormatException e) {
                // too large for a long: out of range like any other
            }
            problem(s.position(), path, s.text() + " is out of range (expected " + min + " to " + max + ")");
            return Optional.empty();
        }
        problem(node.position(), path, "expected a whole number, found " + describe(node));
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
        return node instanceof Scalar s && s.type() != ScalarType.NULL
                ? node.kind() + " \"" + s.text() + '"'
                : node.kind();
    }
}
