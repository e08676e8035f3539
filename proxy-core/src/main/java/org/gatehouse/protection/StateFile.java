package org.gatehouse.protection;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Account protection's state across restarts, in {@code <stateDir>/account-protection.tsv}: the blocks in force, the
 * counters in their window, and each user's familiar addresses. Never a fingerprint: their key dies with the process,
 * and a password's trace has no business on disk. Written atomically; read within {@link #MAX_BYTES}.
 */
final class StateFile {

    static final String FILE_NAME = "account-protection.tsv";
    static final long MAX_BYTES = 128L * 1024 * 1024;
    private static final String HEADER = "# gatehouse account protection v1: block|address|user|familiar lines";
    private static final Logger log = LoggerFactory.getLogger(StateFile.class);

    private StateFile() {
    }

    static void save(LocalState state, Path file) throws IOException {
        long now = state.now();
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
        try (BufferedWriter out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            out.write(HEADER);
            out.write('\n');
            for (Block b : state.activeBlocks(now)) {
                line(out, "block", b.kind().label(), b.key(), b.rule(), b.reason(), Long.toString(b.created()),
                        Long.toString(b.expires()));
            }
            for (Map.Entry<String, LocalState.AddressScore> e : state.addresses.asMap().entrySet()) {
                LocalState.AddressScore sc = e.getValue();
                synchronized (sc) {
                    if (now < sc.expires) {
                        line(out, "address", e.getKey(), Integer.toString(sc.quarters), Long.toString(sc.expires),
                                String.join(",", sc.users.stream().map(StateFile::escapeComma).toList()));
                    }
                }
            }
            for (Map.Entry<String, LocalState.UserScore> e : state.users.asMap().entrySet()) {
                LocalState.UserScore sc = e.getValue();
                if (now < sc.expires && sc.unfamiliar > 0) {
                    line(out, "user", e.getKey(), Integer.toString(sc.unfamiliar), Long.toString(sc.expires));
                }
            }
            for (String user : state.familiar.asMap().keySet()) {
                for (Map.Entry<String, Long> net : state.familiarOf(user).entrySet()) {
                    line(out, "familiar", user, net.getKey(), Long.toString(net.getValue()));
                }
            }
        }
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Reads a saved state into {@code state}; what ran out meanwhile is dropped. A missing file is no state. */
    static void load(LocalState state, Path file) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new IOException(file + " is " + Files.size(file) + " bytes, more than the state can be ("
                    + MAX_BYTES + ")");
        }
        long now = state.now();
        int n = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                n++;
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                try {
                    read(state, split(line), now);
                } catch (RuntimeException e) {
                    log.warn("{}:{}: skipped a malformed line ({})", file, n, e.getClass().getSimpleName());
                }
            }
        }
    }

    private static void read(LocalState state, String[] f, long now) {
        switch (f[0]) {
            case "block" -> {
                Block b = new Block(Block.Kind.of(f[1]), f[2], f[3], f[4], Long.parseLong(f[5]), Long.parseLong(f[6]));
                if (b.activeAt(now)) {
                    state.blocks.put(b.id(), b);
                }
            }
            case "address" -> {
                long expires = Long.parseLong(f[3]);
                if (now < expires) {
                    LocalState.AddressScore sc = new LocalState.AddressScore();
                    sc.quarters = Integer.parseInt(f[2]);
                    sc.expires = expires;
                    if (f.length > 4 && !f[4].isEmpty()) {
                        for (String u : f[4].split(",", -1)) {
                            sc.users.add(unescapeComma(u));
                        }
                    }
                    state.addresses.put(f[1], sc);
                }
            }
            case "user" -> {
                long expires = Long.parseLong(f[3]);
                if (now < expires) {
                    LocalState.UserScore sc = new LocalState.UserScore();
                    sc.unfamiliar = Integer.parseInt(f[2]);
                    sc.expires = expires;
                    state.users.put(f[1], sc);
                }
            }
            case "familiar" -> state.remember(f[1], f[2], LocalState.FINGERPRINTS_PER_USER * 100,
                    Long.parseLong(f[3]));
            default -> throw new IllegalArgumentException("unknown line");
        }
    }

    private static void line(BufferedWriter out, String... fields) throws IOException {
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) {
                out.write('\t');
            }
            out.write(escape(fields[i]));
        }
        out.write('\n');
    }

    private static String[] split(String line) {
        String[] raw = line.split("\t", -1);
        String[] out = new String[raw.length];
        for (int i = 0; i < raw.length; i++) {
            out[i] = unescape(raw[i]);
        }
        return out;
    }

    /** Tabs and line breaks cannot occur in escaped user names, but a file must never depend on that. */
    static String escape(String s) {
        return s.replace("%", "%25").replace("\t", "%09").replace("\n", "%0A").replace("\r", "%0D");
    }

    static String unescape(String s) {
        return s.replace("%09", "\t").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%");
    }

    private static String escapeComma(String s) {
        return s.replace("%", "%25").replace(",", "%2C");
    }

    private static String unescapeComma(String s) {
        return s.replace("%2C", ",").replace("%25", "%");
    }

    /** The blocks a saved state holds, for {@code gatehouse blocks} when no gateway answers. */
    static List<Block> blocks(Path file, long now) throws IOException {
        LocalState state = new LocalState(() -> now);
        load(state, file);
        return new ArrayList<>(state.activeBlocks(now));
    }
}
