package org.gatehouse.rules.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.load.NodeReader.Item;
import org.gatehouse.rules.load.YamlNode.MapNode;
import org.gatehouse.rules.match.IpLiteral;

/** Reads dns: the resolvers, timeout, cache bounds and what a failed lookup means for domain rules. */
final class DnsSection {

    private static final Set<String> DNS_KEYS = Set.of("servers", "timeout", "cache", "onFailure");
    private static final Set<String> DNS_CACHE_KEYS = Set.of("maxEntries", "maxTtl", "negativeTtl");

    private final LoadContext ctx;
    private final NodeReader in;

    DnsSection(LoadContext ctx) {
        this.ctx = ctx;
        this.in = ctx.in();
    }

    /** The dns settings; null after a problem. */
    DnsSettings read(YamlNode node) {
        MapNode map = in.map(node, "dns").orElse(null);
        if (map == null) {
            return null;
        }
        int before = ctx.problemCount();
        in.onlyKeys(map, "dns", DNS_KEYS);
        List<HostPort> servers = new ArrayList<>();
        in.entry(map, "servers").ifPresent(e -> {
            for (Item item : in.textList(e.value(), "dns.servers")) {
                dnsServer(item).ifPresent(servers::add);
            }
        });
        Duration timeout = in.entry(map, "timeout")
                .map(e -> in.duration(e.value(), "dns.timeout", Duration.ofMillis(100), Duration.ofSeconds(60))
                        .orElse(null))
                .orElse(DnsSettings.DEFAULT_TIMEOUT);
        int maxEntries = DnsSettings.DEFAULT_MAX_ENTRIES;
        Duration maxTtl = DnsSettings.DEFAULT_MAX_TTL;
        Duration negativeTtl = DnsSettings.DEFAULT_NEGATIVE_TTL;
        Optional<MapNode> cache = in.entry(map, "cache").flatMap(e -> in.map(e.value(), "dns.cache"));
        if (cache.isPresent()) {
            MapNode c = cache.get();
            in.onlyKeys(c, "dns.cache", DNS_CACHE_KEYS);
            maxEntries = in.entry(c, "maxEntries")
                    .flatMap(e -> in.integer(e.value(), "dns.cache.maxEntries", 1, 10_000_000)).orElse(maxEntries);
            maxTtl = in.entry(c, "maxTtl")
                    .flatMap(e -> in.duration(e.value(), "dns.cache.maxTtl", Duration.ZERO, Duration.ofDays(7)))
                    .orElse(maxTtl);
            negativeTtl = in.entry(c, "negativeTtl")
                    .flatMap(e -> in.duration(e.value(), "dns.cache.negativeTtl", Duration.ZERO, Duration.ofDays(1)))
                    .orElse(negativeTtl);
        }
        DnsSettings.OnFailure onFailure = in.entry(map, "onFailure")
                .flatMap(e -> in.text(e.value(), "dns.onFailure"))
                .flatMap(s -> ctx.word(s, "dns.onFailure", DnsSettings.OnFailure.fromConfigName(s.text()),
                        "deny or ignore-domain-rules"))
                .orElse(DnsSettings.OnFailure.DENY);
        if (ctx.problemCount() > before || timeout == null) {
            return null;
        }
        return new DnsSettings(servers, timeout, maxEntries, maxTtl, negativeTtl, onFailure, map.position());
    }

    /** A resolver's address: an IP, with a port or not (53). A name would need DNS to find DNS. */
    private Optional<HostPort> dnsServer(Item item) {
        String text = item.text();
        Optional<byte[]> bare = IpLiteral.parse(text);
        if (bare.isPresent()) {
            return Optional.of(new HostPort(text, 53));
        }
        try {
            HostPort hp = HostPort.parse(text, false);
            if (hp.literalAddress().isPresent()) {
                return Optional.of(hp);
            }
            in.problem(item.position(), item.path(), '"' + text
                    + "\" names a host (expected an IP address, as 192.0.2.53, 127.0.0.1:5353 or [2001:db8::53]:53)");
        } catch (IllegalArgumentException ex) {
            in.problem(item.position(), item.path(), ex.getMessage());
        }
        return Optional.empty();
    }
}
