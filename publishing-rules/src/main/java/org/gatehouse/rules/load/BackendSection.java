package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.child;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.load.NodeReader.Item;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.MapNode;

/** Reads a rule's backend: the servers it relays to and, in the long form, the pool's balance and health checks. */
final class BackendSection {

    private static final Set<String> BACKEND_KEYS = Set.of("servers", "balance", "connectTimeout", "healthCheck",
            "sendProxyProtocol", "greetingTimeout", "clientIdentity");
    private static final Set<String> HEALTH_CHECK_KEYS = Set.of("interval", "timeout", "rise", "fall");

    private final LoadContext ctx;
    private final NodeReader in;

    BackendSection(LoadContext ctx) {
        this.ctx = ctx;
        this.in = ctx.in();
    }

    /**
     * {@code backend:} as a list of servers (the short form) or as a map with the pool's settings; null after a problem.
     * {@code protocol} (null when the rule's is unreadable) decides which {@code clientIdentity} applies.
     */
    Backend read(YamlNode node, String path, Protocol protocol) {
        if (!(node instanceof MapNode map)) {
            List<HostPort> servers = servers(node, path);
            return servers.isEmpty() ? null : Backend.of(servers);
        }
        int before = ctx.problemCount();
        in.onlyKeys(map, path, BACKEND_KEYS);
        List<HostPort> servers = in.required(map, path, "servers").map(e -> servers(e.value(), child(path, "servers")))
                .orElse(List.of());
        Backend.Balance balance = in.entry(map, "balance").flatMap(e -> in.text(e.value(), child(path, "balance")))
                .flatMap(s -> ctx.word(s, child(path, "balance"), Backend.Balance.fromConfigName(s.text()),
                        "round-robin, least-connections or first"))
                .orElse(Backend.Balance.FIRST);
        Duration connectTimeout = in.entry(map, "connectTimeout")
                .flatMap(e -> in.duration(e.value(), child(path, "connectTimeout"), Duration.ofMillis(100),
                        Duration.ofMinutes(2)))
                .orElse(Backend.DEFAULT_CONNECT_TIMEOUT);
        Optional<Backend.HealthCheck> healthCheck = in.entry(map, "healthCheck")
                .flatMap(e -> NodeReader.isNull(e.value())
                        ? Optional.of(Backend.HealthCheck.DEFAULT)
                        : in.map(e.value(), child(path, "healthCheck"))
                                .map(m -> healthCheck(m, child(path, "healthCheck"))));
        Backend.ProxyProtocol proxy = in.entry(map, "sendProxyProtocol")
                .flatMap(e -> in.text(e.value(), child(path, "sendProxyProtocol")))
                .flatMap(s -> ctx.word(s, child(path, "sendProxyProtocol"),
                        Backend.ProxyProtocol.fromConfigName(s.text()),
                        "off, v1 or v2"))
                .orElse(Backend.ProxyProtocol.OFF);
        Duration greetingTimeout = in.entry(map, "greetingTimeout")
                .flatMap(e -> in.duration(e.value(), child(path, "greetingTimeout"), Duration.ofSeconds(1),
                        Duration.ofMinutes(5)))
                .orElse(Backend.DEFAULT_GREETING_TIMEOUT);
        Backend.ClientIdentity identity = clientIdentity(map, path, protocol);
        if (ctx.problemCount() > before || servers.isEmpty()) {
            return null;
        }
        return switch (identity) {
            case PROXY_V1 -> new Backend(servers, balance, connectTimeout, healthCheck, Backend.ProxyProtocol.V1,
                    false, greetingTimeout);
            case PROXY_V2 -> new Backend(servers, balance, connectTimeout, healthCheck, Backend.ProxyProtocol.V2,
                    false, greetingTimeout);
            case TRANSPARENT -> new Backend(servers, balance, connectTimeout, healthCheck, proxy, true,
                    greetingTimeout);
            default -> new Backend(servers, balance, connectTimeout, healthCheck, proxy, false, greetingTimeout,
                    identity);
        };
    }

    /**
     * {@code clientIdentity:}, the one key for how the server learns the client's address. The older
     * {@code sendProxyProtocol} (and the rule's {@code transparent}) still work; saying the PROXY header twice is a
     * problem, since the two could disagree.
     */
    private Backend.ClientIdentity clientIdentity(MapNode map, String path, Protocol protocol) {
        Optional<Entry> entry = in.entry(map, "clientIdentity");
        if (entry.isEmpty()) {
            return Backend.ClientIdentity.NONE;
        }
        String key = child(path, "clientIdentity");
        Backend.ClientIdentity identity = in.text(entry.get().value(), key)
                .flatMap(s -> ctx.word(s, key, Backend.ClientIdentity.fromConfigName(s.text()),
                        "none, proxy-v1, proxy-v2, transparent, xclient or imap-id"))
                .orElse(Backend.ClientIdentity.NONE);
        if (protocol != null && !identity.appliesTo(protocol)) {
            in.problem(entry.get().value().position(), key, identity.configName() + " does not apply to "
                    + protocol.configName() + " rules (expected " + (protocol == Protocol.TCP
                            ? "none, proxy-v1, proxy-v2 or transparent: a tcp server has no protocol to say it in"
                            : "xclient for smtp and pop3, imap-id for imap, or none, proxy-v1, proxy-v2, transparent")
                    + ")");
        }
        if (identity != Backend.ClientIdentity.NONE) {
            in.entry(map, "sendProxyProtocol").ifPresent(e -> in.problem(e.keyPosition(),
                    child(path, "sendProxyProtocol"), "and clientIdentity both say how the server learns the client "
                            + "(expected one of them: clientIdentity: proxy-v1 or proxy-v2 replaces sendProxyProtocol)"));
        }
        return identity;
    }

    private List<HostPort> servers(YamlNode node, String path) {
        List<HostPort> servers = new ArrayList<>();
        for (Item item : in.textList(node, path)) {
            try {
                HostPort hp = HostPort.parse(item.text(), false);
                if (servers.contains(hp)) {
                    in.problem(item.position(), item.path(), hp + " is listed twice");
                } else {
                    servers.add(hp);
                }
            } catch (IllegalArgumentException ex) {
                in.problem(item.position(), item.path(), ex.getMessage());
            }
        }
        return servers;
    }

    private Backend.HealthCheck healthCheck(MapNode map, String path) {
        in.onlyKeys(map, path, HEALTH_CHECK_KEYS);
        Backend.HealthCheck d = Backend.HealthCheck.DEFAULT;
        Duration interval = in.entry(map, "interval").flatMap(e -> in.duration(e.value(), child(path, "interval"),
                Duration.ofSeconds(1), Duration.ofHours(1))).orElse(d.interval());
        Duration timeout = in.entry(map, "timeout").flatMap(e -> in.duration(e.value(), child(path, "timeout"),
                Duration.ofMillis(100), Duration.ofMinutes(5))).orElse(d.timeout());
        int rise = in.entry(map, "rise").flatMap(e -> in.integer(e.value(), child(path, "rise"), 1, 100))
                .orElse(d.rise());
        int fall = in.entry(map, "fall").flatMap(e -> in.integer(e.value(), child(path, "fall"), 1, 100))
                .orElse(d.fall());
        if (timeout.compareTo(interval) > 0) {
            in.problem(map.position(), path, "timeout " + timeout.toMillis() + " ms is longer than interval "
                    + interval.toMillis() + " ms (expected a timeout shorter than the interval)");
        }
        return new Backend.HealthCheck(interval, timeout, rise, fall);
    }

    /** A tcp rule's backend.greetingTimeout is ignored, with a warning: a tcp server need not greet. */
    void warnGreetingTimeoutIgnored(MapNode rule, String rulePath) {
        in.entry(rule, "backend").map(Entry::value).filter(MapNode.class::isInstance).map(MapNode.class::cast)
                .flatMap(m -> in.entry(m, "greetingTimeout"))
                .ifPresent(e -> ctx.warn(e.keyPosition(), child(child(rulePath, "backend"),
                        "greetingTimeout"), "is ignored: a tcp server need not greet"));
    }
}
