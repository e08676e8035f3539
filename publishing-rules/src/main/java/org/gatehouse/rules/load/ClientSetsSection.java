package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.child;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gatehouse.rules.ClientSet;
import org.gatehouse.rules.load.NodeReader.Item;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.MapNode;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.DomainSet;

/** Reads clientSets: named groups of addresses and domains that rules refer to by name. */
final class ClientSetsSection {

    private static final Set<String> CLIENT_SET_KEYS = Set.of("addresses", "domains");

    private final LoadContext ctx;
    private final NodeReader in;

    ClientSetsSection(LoadContext ctx) {
        this.ctx = ctx;
        this.in = ctx.in();
    }

    /** The client sets by name, in the order written. */
    Map<String, ClientSet> read(YamlNode node) {
        Map<String, ClientSet> out = new LinkedHashMap<>();
        MapNode map = in.map(node, "clientSets").orElse(null);
        if (map == null) {
            return out;
        }
        for (Entry e : map.entries().values()) {
            String path = child("clientSets", e.key());
            if (ctx.checkName(e.key(), e.keyPosition(), path, "client set")) {
                in.map(e.value(), path).ifPresent(def -> out.put(e.key(), clientSet(e, def, path)));
            }
        }
        return out;
    }

    private ClientSet clientSet(Entry e, MapNode def, String path) {
        in.onlyKeys(def, path, CLIENT_SET_KEYS);
        int before = ctx.problemCount();
        List<AddressBlock> blocks = new ArrayList<>();
        in.entry(def, "addresses").ifPresent(a -> {
            for (Item item : in.textList(a.value(), child(path, "addresses"))) {
                ctx.addressBlock(item).ifPresent(blocks::add);
            }
        });
        List<String> domains = new ArrayList<>();
        in.entry(def, "domains").ifPresent(a -> {
            for (Item item : in.textList(a.value(), child(path, "domains"))) {
                domain(item).ifPresent(domains::add);
            }
        });
        if (ctx.problemCount() == before && blocks.isEmpty() && domains.isEmpty()) {
            in.problem(def.position(), path, "has neither addresses nor domains (expected at least one of them)");
        }
        return ClientSet.of(e.key(), blocks, DomainSet.of(domains), e.keyPosition());
    }

    private Optional<String> domain(Item item) {
        String domain;
        try {
            domain = DomainSet.canonical(item.text());
        } catch (IllegalArgumentException ex) {
            in.problem(item.position(), item.path(), ex.getMessage());
            return Optional.empty();
        }
        if (domain.indexOf('.') < 0) {
            ctx.warn(item.position(), item.path(), "\"" + domain
                    + "\" is a top-level domain: every client whose name ends in ." + domain + " matches");
        }
        return Optional.of(domain);
    }
}
