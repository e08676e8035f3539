package org.gatehouse.rules.load;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.load.NodeReader.Item;
import org.gatehouse.rules.match.AddressBlock;

/** What the sections of one load share: the file and its folder, the problems and warnings so far, common checks. */
final class LoadContext {

    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,62}");

    private final Path file;
    private final String fileName;
    private final Path baseDir;
    private final List<Problem> problems = new ArrayList<>();
    private final List<Problem> warnings = new ArrayList<>();
    private final NodeReader in = new NodeReader(problems);

    LoadContext(Path file) {
        this.file = file.toAbsolutePath().normalize();
        this.fileName = file.toString();
        this.baseDir = this.file.getParent();
    }

    /** The rules file, absolute. */
    Path file() {
        return file;
    }

    /** The rules file's folder, against which the paths it names resolve. */
    Path baseDir() {
        return baseDir;
    }

    /** A path the file names, resolved against its folder. */
    Path resolve(String path) {
        return baseDir.resolve(path).normalize();
    }

    NodeReader in() {
        return in;
    }

    YamlNode readTree(String text) throws RulesException {
        return YamlReader.read(text, fileName, problems);
    }

    /** How many problems so far: a section compares before and after to know whether its part was sound. */
    int problemCount() {
        return problems.size();
    }

    boolean hasProblems() {
        return !problems.isEmpty();
    }

    void warn(SourcePosition position, String path, String message) {
        warnings.add(new Problem(position, path, message));
    }

    /** Every problem, in file order. */
    RulesException failure() {
        return new RulesException(sorted(problems));
    }

    /** Every warning, in file order. */
    List<Problem> sortedWarnings() {
        return sorted(warnings);
    }

    private static List<Problem> sorted(List<Problem> list) {
        List<Problem> copy = new ArrayList<>(list);
        copy.sort(Comparator.comparingInt((Problem p) -> p.position().line())
                .thenComparingInt(p -> p.position().column()));
        return copy;
    }

    /** {@code value} as read from the word {@code s}; a problem saying what was expected when it is empty. */
    <T> Optional<T> word(YamlNode.Scalar s, String path, Optional<T> value, String expected) {
        if (value.isEmpty()) {
            List<String> words = Arrays.stream(expected.split("[ ,]+")).filter(w -> !w.equals("or")).toList();
            String hint = Suggestions.closest(s.text(), words).map(w -> "; did you mean " + w + "?").orElse("");
            in.problem(s.position(), path, '"' + s.text() + "\" (expected " + expected + hint + ")");
        }
        return value;
    }

    /** Whether {@code name} is a valid name for a rule, certificate or client set; a problem if not. */
    boolean checkName(String name, SourcePosition pos, String path, String what) {
        if (NAME.matcher(name).matches()) {
            return true;
        }
        in.problem(pos, path, what + " name \"" + name + "\" (expected a letter, then letters, digits, '.', '_' or '-',"
                + " at most 63 characters)");
        return false;
    }

    /** The names a reference could have used, for a message about one that is unknown. */
    static String known(Set<String> names, String what) {
        return names.isEmpty()
                ? "one defined under " + what + ": there are none"
                : "one of: " + String.join(", ", names);
    }

    /** An address to listen on: an IP literal and a port (0 for any free port), never a host name. */
    Optional<HostPort> listenAddress(Item item) {
        HostPort hp;
        try {
            hp = HostPort.parse(item.text(), true);
        } catch (IllegalArgumentException ex) {
            in.problem(item.position(), item.path(), ex.getMessage());
            return Optional.empty();
        }
        if (hp.literalAddress().isEmpty()) {
            in.problem(item.position(), item.path(), '"' + item.text()
                    + "\" listens on a host name (expected an IP address: 192.0.2.10:995, [2001:db8::10]:995, 0.0.0.0:995)");
            return Optional.empty();
        }
        return Optional.of(hp);
    }

    Optional<AddressBlock> addressBlock(Item item) {
        try {
            return Optional.of(AddressBlock.parse(item.text()));
        } catch (IllegalArgumentException ex) {
            in.problem(item.position(), item.path(), ex.getMessage());
            return Optional.empty();
        }
    }

    /** Why a file the rules name cannot be read (absent, not a file, unreadable, over {@code max} bytes), or null. */
    static String unreadable(Path f, int max, String what) {
        if (!Files.exists(f)) {
            return "file " + f + " does not exist";
        }
        if (!Files.isRegularFile(f)) {
            return f + " is not a regular file";
        }
        if (!Files.isReadable(f)) {
            return "file " + f + " is not readable by this user";
        }
        return BoundedFile.tooLarge(f, max, what);
    }
}
