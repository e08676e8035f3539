package org.gatehouse.login;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.gatehouse.log.LogText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The report behind the audit-then-enforce migration: which clients still log in with a clear-text password, as whom,
 * how often and when last. One entry per rule, client address, user and action; kept in memory, saved to
 * {@code <stateDir>/plaintext-logins.tsv} so it survives restarts, and printed by {@code gatehouse plaintext-logins}.
 */
public final class PlaintextLogins {

    public static final String REFUSED = "refused";
    public static final String AUDITED = "audited";
    /** Looked at the capabilities on a connection without TLS, then left without STARTTLS or a login attempt. */
    public static final String LEFT = "left";
    public static final String FILE_NAME = "plaintext-logins.tsv";

    /** Bounds memory whatever the clients do; new entries beyond it are counted in the log, not stored. */
    static final int MAX_ENTRIES = 10_000;
    /** A saved report is read only up to this size: entries are bounded, each field escaped and cut. */
    static final long MAX_FILE_BYTES = 16L * 1024 * 1024;

    private static final Logger log = LoggerFactory.getLogger(PlaintextLogins.class);
    private static final String HEADER = "rule\tclient\tuser\taction\tmethod\tcount\tfirst_seen\tlast_seen\thello\tname";
    /** The header of a report written before the hello and name columns. */
    private static final String HEADER_8 = "rule\tclient\tuser\taction\tmethod\tcount\tfirst_seen\tlast_seen";
    /** The commands a report may name (secureChannel) besides logins; any other client word is "other command". */
    private static final Set<String> TRANSACTIONS = Set.of("MAIL", "RCPT", "DATA", "BDAT", "VRFY", "EXPN", "ETRN",
            "STAT", "LIST", "RETR", "TOP", "UIDL", "DELE", "RSET", "SELECT", "EXAMINE", "FETCH", "STATUS", "APPEND",
            "UID", "SEARCH", "LSUB", "ENABLE", "other command");
    /** The method of a login without TLS that sent no password, then read or sent mail in clear text. */
    public static final String AFTER_LOGIN = "mail access after login";

    /**
     * One line of the report. {@code hello} is what the client last called itself (SMTP EHLO/HELO, IMAP ID), escaped,
     * or empty; {@code name} the client address's verified reverse-DNS name, or empty when none is known.
     */
    public record Entry(String rule, String client, String user, String action, String method, long count,
            Instant firstSeen, Instant lastSeen, String hello, String name) {

        Entry seenAgain(String method, Instant now, String newHello, String newName) {
            return new Entry(rule, client, user, action, method, count + 1, firstSeen, now,
                    newHello.isEmpty() ? hello : newHello, newName.isEmpty() ? name : newName);
        }

        String key() {
            return key(rule, client, user, action);
        }

        static String key(String rule, String client, String user, String action) {
            return rule + '\t' + client + '\t' + user + '\t' + action;
        }
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Optional<Path> file;
    private final AtomicBoolean dirty = new AtomicBoolean();
    private final AtomicBoolean fullWarned = new AtomicBoolean();

    private PlaintextLogins(Optional<Path> file) {
        this.file = file;
    }

    /** A report kept in memory only (tests, {@code check}). */
    public static PlaintextLogins inMemory() {
        return new PlaintextLogins(Optional.empty());
    }

    /** A report saved under {@code stateDir}, starting from what an earlier run saved there. */
    public static PlaintextLogins persistent(Path stateDir) {
        PlaintextLogins report = new PlaintextLogins(Optional.of(stateDir.resolve(FILE_NAME)));
        try {
            for (Entry e : read(stateDir.resolve(FILE_NAME))) {
                report.entries.put(e.key(), e);
                report.dirty.set(true); // saved again as read, so what an earlier version wrote is rewritten
            }
        } catch (IOException | RuntimeException e) {
            log.warn("cannot read the plaintext-login report {}; starting a new one: {}", report.file.get(),
                    e.toString());
        }
        return report;
    }

    /**
     * Creates {@code stateDir} if needed and writes (then deletes) a file in it: a gateway that could not save its
     * report would lose it silently, so it does not start. The access check of {@code check} cannot see a read-only
     * mount (systemd's ProtectSystem) that the running service has, so the start tries for real.
     */
    public static void probeWritable(Path stateDir) throws IOException {
        Files.createDirectories(stateDir);
        Files.delete(Files.createTempFile(stateDir, ".write-check-", ".tmp"));
    }

    public void record(String rule, String client, String rawUser, String action, String rawMethod) {
        record(rule, client, rawUser, action, rawMethod, "", "");
    }

    /**
     * Records an attempt; {@code rawHello} is the client's EHLO or IMAP ID name (escaped already), or empty;
     * {@code rawName} its verified reverse-DNS name, or empty.
     */
    public void record(String rule, String client, String rawUser, String action, String rawMethod, String rawHello,
            String rawName) {
        String user = clean(rawUser);
        String method = clean(rawMethod);
        String hello = clean(rawHello);
        String name = clean(rawName);
        Instant now = Instant.now();
        String key = Entry.key(rule, client, user, action);
        Entry updated = entries.computeIfPresent(key, (k, e) -> e.seenAgain(method, now, hello, name));
        if (updated == null) {
            if (entries.size() >= MAX_ENTRIES) {
                if (fullWarned.compareAndSet(false, true)) {
                    log.warn("the plaintext-login report holds {} entries; new clients are logged but not added",
                            MAX_ENTRIES);
                }
                return;
            }
            entries.merge(key, new Entry(rule, client, user, action, method, 1, now, now, hello, name),
                    (old, fresh) -> old.seenAgain(method, now, hello, name));
        }
        dirty.set(true);
    }

    /** The entries, most recently seen first. */
    public List<Entry> entries() {
        List<Entry> list = new ArrayList<>(entries.values());
        list.sort(Comparator.comparing(Entry::lastSeen).reversed().thenComparing(Entry::key));
        return list;
    }

    /** Writes the report if it changed since the last save; atomic, so a reader never sees half a file. */
    public void saveIfChanged() {
        if (file.isEmpty() || !dirty.getAndSet(false)) {
            return;
        }
        Path target = file.get();
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        for (Entry e : entries()) {
            text.append(String.join("\t", e.rule(), e.client(), e.user(), e.action(), e.method(),
                    Long.toString(e.count()), e.firstSeen().toString(), e.lastSeen().toString(), e.hello(), e.name()))
                    .append('\n');
        }
        try {
            Files.createDirectories(target.getParent());
            Path tmp = target.resolveSibling(FILE_NAME + ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            dirty.set(true);
            log.warn("cannot save the plaintext-login report {}: {}", target, e.toString());
        }
    }

    /**
     * Reads a saved report; a missing file is an empty report. Methods are read as {@link #knownMethod} says, so a
     * report written by an earlier version shows no secret.
     */
    public static List<Entry> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        if (Files.size(file) > MAX_FILE_BYTES) {
            throw new IOException(file + " is " + Files.size(file) + " bytes, more than a report of " + MAX_ENTRIES
                    + " entries can be (" + MAX_FILE_BYTES + ")");
        }
        List<Entry> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            if (line.isBlank() || line.equals(HEADER) || line.equals(HEADER_8)) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 8 && f.length != 10) {
                // Not the line itself: a report from an earlier version could hold a secret.
                throw new IOException(file + ":" + (n + 1) + ": malformed line (" + f.length
                        + " fields, expected 10, or 8 from an earlier version)");
            }
            boolean who = f.length == 10;
            out.add(new Entry(f[0], f[1], clean(f[2]), f[3], knownMethod(f[4]), Long.parseLong(f[5]),
                    Instant.parse(f[6]), Instant.parse(f[7]), who ? clean(f[8]) : "", who ? clean(f[9]) : ""));
        }
        return out;
    }

    /**
     * User names are the client's words, escaped by {@link LoginGuard} already; escaped here only if they still hold a
     * control character (so never twice), since a tab or line break would split a line-per-entry file; and cut, as
     * {@link LogText} cuts, whoever called.
     */
    private static String clean(String s) {
        String escaped = s.chars().anyMatch(c -> c < 0x20 || c == 0x7f) ? LogText.clean(s) : s;
        return escaped.length() > LogText.MAX_CHARS + 3 ? escaped.substring(0, LogText.MAX_CHARS) + "..." : escaped;
    }

    /** A client's command word as the report names it: one of a fixed list, never the client's own word. */
    public static String transactionMethod(String verb) {
        return TRANSACTIONS.contains(verb) ? verb : "other command";
    }

    /**
     * A method as this version writes it: a login command and, for SASL, a known mechanism. A report saved by an
     * earlier version could hold whatever followed AUTH on the client's line, a password included: that becomes
     * {@code other} when the report is read, and is gone from the file at the next save.
     */
    static String knownMethod(String method) {
        if (Set.of("USER", "USER/PASS", "APOP", "LOGIN", AFTER_LOGIN).contains(method) || TRANSACTIONS.contains(method)
                || method.matches("no STARTTLS after (CAPA|CAPABILITY|EHLO)")) {
            return method;
        }
        for (String command : List.of("AUTHENTICATE", "AUTH", "X-EXPS")) {
            if (method.startsWith(command + " ")) {
                return Sasl.method(command, method.substring(command.length() + 1));
            }
        }
        return "other";
    }
}
