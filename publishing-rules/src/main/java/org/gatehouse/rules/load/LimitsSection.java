package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.child;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.load.YamlNode.MapNode;

/** Reads limits: the file's defaults under the top-level limits key, and a rule's own limits over them. */
final class LimitsSection {

    private static final Set<String> LIMIT_KEYS = Set.of("maxConnections", "maxConnectionsPerClient",
            "connectionRatePerClient", "handshakeTimeout", "idleTimeout", "maxPreLoginConnections",
            "preLoginIdleTimeout");
    /** Limits that only mail rules use: a client of a tcp rule never logs in, as far as the gateway can tell. */
    private static final Set<String> MAIL_LIMIT_KEYS = Set.of("maxPreLoginConnections", "preLoginIdleTimeout");
    private static final Pattern RATE = Pattern.compile("(\\d{1,9})\\s*/\\s*(s|sec|second|m|min|minute|h|hour)");

    private final LoadContext ctx;
    private final NodeReader in;

    LimitsSection(LoadContext ctx) {
        this.ctx = ctx;
        this.in = ctx.in();
    }

    /** Limits as written at {@code path}, each key overriding {@code base} (the file's or the built-in defaults); null if wrong. */
    Limits read(MapNode map, String path, Limits base) {
        in.onlyKeys(map, path, LIMIT_KEYS);
        int before = ctx.problemCount();
        int max = in.entry(map, "maxConnections").flatMap(e -> in.integer(e.value(), child(path, "maxConnections"), 0,
                10_000_000)).orElse(base.maxConnections());
        int perClient = in.entry(map, "maxConnectionsPerClient").flatMap(e -> in.integer(e.value(),
                child(path, "maxConnectionsPerClient"), 0, 10_000_000)).orElse(base.maxConnectionsPerClient());
        Optional<Limits.Rate> rate = in.entry(map, "connectionRatePerClient")
                .map(e -> rate(e.value(), child(path, "connectionRatePerClient")))
                .orElse(base.connectionRatePerClient());
        Duration handshake = in.entry(map, "handshakeTimeout").flatMap(e -> in.duration(e.value(),
                child(path, "handshakeTimeout"), Duration.ofMillis(100), Duration.ofMinutes(5)))
                .orElse(base.handshakeTimeout());
        Optional<Duration> idle = in.entry(map, "idleTimeout")
                .flatMap(e -> in.duration(e.value(), child(path, "idleTimeout"),
                        Duration.ZERO, Duration.ofDays(1)))
                .or(base::idleTimeout);
        int preLogin = in.entry(map, "maxPreLoginConnections").flatMap(e -> in.integer(e.value(),
                child(path, "maxPreLoginConnections"), 0, 10_000_000)).orElse(base.maxPreLoginConnections());
        Duration preLoginIdle = in.entry(map, "preLoginIdleTimeout").flatMap(e -> in.duration(e.value(),
                child(path, "preLoginIdleTimeout"), Duration.ZERO, Duration.ofDays(1)))
                .orElse(base.preLoginIdleTimeout());
        return ctx.problemCount() > before
                ? null
                : new Limits(max, perClient, rate, handshake, idle, preLogin, preLoginIdle);
    }

    /** A tcp rule's limits: the ones that apply to clients who log in are ignored, with a warning each. */
    void warnMailOnlyKeys(MapNode map, String path) {
        map.entries().values().stream().filter(e -> MAIL_LIMIT_KEYS.contains(e.key()))
                .forEach(e -> ctx.warn(e.keyPosition(), child(path, e.key()),
                        "is ignored: it applies to pop3, imap and smtp, whose clients log in"));
    }

    /** {@code 60/min}, {@code 10/s}, {@code 1000/h}; {@code 0} or {@code off} for none. */
    private Optional<Limits.Rate> rate(YamlNode node, String path) {
        Optional<YamlNode.Scalar> text = in.text(node, path);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        String t = text.get().text().trim();
        if (t.equals("0") || t.equals("off")) {
            return Optional.empty();
        }
        Matcher m = RATE.matcher(t);
        if (!m.matches() || Integer.parseInt(m.group(1)) == 0) {
            in.problem(text.get().position(), path, '"' + t + "\" is not a rate (expected a count per unit: 60/min, "
                    + "10/s, 1000/h, or off)");
            return Optional.empty();
        }
        Duration period = switch (m.group(2).charAt(0)) {
            case 's' -> Duration.ofSeconds(1);
            case 'm' -> Duration.ofMinutes(1);
            default -> Duration.ofHours(1);
        };
        return Optional.of(new Limits.Rate(Integer.parseInt(m.group(1)), period));
    }
}
