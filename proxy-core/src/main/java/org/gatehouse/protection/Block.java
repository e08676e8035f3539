package org.gatehouse.protection;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;

/**
 * A block: an address refused before TLS, or a user whose logins from unfamiliar addresses are refused.
 *
 * @param kind      address or user
 * @param key       the address (as logs write it) or the user name (lower case, escaped)
 * @param rule      the rule whose login set it off ({@code admin} when set by hand)
 * @param reason    a fixed word: failures, distinct-users, unfamiliar-failures
 * @param created   when, epoch milliseconds
 * @param expires   until when, epoch milliseconds
 */
public record Block(Kind kind, String key, String rule, String reason, long created, long expires) {

    public Block {
        requireNonNull(kind, "kind");
        requireNonNull(key, "key");
        requireNonNull(rule, "rule");
        requireNonNull(reason, "reason");
    }

    /** What is blocked. */
    public enum Kind {
        ADDRESS("address"),
        USER("user");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        public static Kind of(String label) {
            for (Kind k : values()) {
                if (k.label.equals(label)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("\"" + label + "\" (expected address or user)");
        }
    }

    /** The key of the block in maps: kind and key. */
    public String id() {
        return id(kind, key);
    }

    public static String id(Kind kind, String key) {
        return kind.label + ' ' + key;
    }

    public boolean activeAt(long now) {
        return now < expires;
    }

    /** The header of {@link #tsv}: what the admin endpoint's {@code GET /blocks} and {@code gatehouse blocks} read. */
    public static final String TSV_HEADER = "kind\tkey\trule\treason\tsince\tuntil\n";

    /** Blocks as tab-separated lines under {@link #TSV_HEADER}, times as ISO instants. */
    public static String tsv(List<Block> blocks) {
        StringBuilder out = new StringBuilder(TSV_HEADER);
        for (Block b : blocks) {
            out.append(b.kind().label()).append('\t').append(b.key()).append('\t').append(b.rule()).append('\t')
                    .append(b.reason()).append('\t').append(Instant.ofEpochMilli(b.created())).append('\t')
                    .append(Instant.ofEpochMilli(b.expires())).append('\n');
        }
        return out.toString();
    }
}
