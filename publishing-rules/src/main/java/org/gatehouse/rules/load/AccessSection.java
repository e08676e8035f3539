package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.child;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.ClientSet;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.load.NodeReader.Item;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.MapNode;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.DomainSet;

/** Reads who a rule admits (access: allow and deny) and which load balancers may name the client (acceptProxyProtocol). */
final class AccessSection {

    private static final Set<String> ACCESS_KEYS = Set.of("allow", "deny");
    private static final Set<String> ACCEPT_PROXY_KEYS = Set.of("from");

    private final LoadContext ctx;
    private final NodeReader in;
    private final Map<String, ClientSet> clientSets;

    AccessSection(LoadContext ctx, Map<String, ClientSet> clientSets) {
        this.ctx = ctx;
        this.in = ctx.in();
        this.clientSets = clientSets;
    }

    /** {@code access:} with its allow and deny lists; null if it is not a map. */
    Access read(YamlNode node, String path) {
        MapNode map = in.map(node, path).orElse(null);
        if (map == null) {
            return null;
        }
        in.onlyKeys(map, path, ACCESS_KEYS);
        Optional<Entry> allowEntry = in.entry(map, "allow");
        ClientList allow = allowEntry.map(e -> clientList(e.value(), child(path, "allow")))
                .orElse(ClientList.empty());
        ClientList deny = in.entry(map, "deny").map(e -> clientList(e.value(), child(path, "deny")))
                .orElse(ClientList.empty());
        if (allowEntry.isPresent() && allow.isEmpty()) {
            in.problem(allowEntry.get().value().position(), child(path, "allow"),
                    "is empty, which would admit nobody (leave allow out to admit any client)");
        }
        return new Access(allowEntry.isEmpty(), allow, deny);
    }

    /** The load balancers trusted to name the client in a PROXY protocol header: addresses and client sets, no domains. */
    ClientList acceptProxyProtocol(YamlNode node, String path) {
        MapNode map = in.map(node, path).orElse(null);
        if (map == null) {
            return ClientList.empty();
        }
        in.onlyKeys(map, path, ACCEPT_PROXY_KEYS);
        ClientList from = in.required(map, path, "from").map(e -> clientList(e.value(), child(path, "from")))
                .orElse(ClientList.empty());
        if (from.isEmpty() && in.entry(map, "from").isPresent()) {
            in.problem(map.position(), child(path, "from"), "is empty (expected the load balancers' addresses)");
        }
        if (!from.domains().isEmpty()) {
            in.problem(map.position(), child(path, "from"),
                    "names domains (" + String.join(", ", from.domains().domains())
                            + "), which would need reverse DNS of the load balancer (expected addresses only)");
        }
        return from;
    }

    ClientList clientList(YamlNode node, String path) {
        List<String> entries = new ArrayList<>();
        List<AddressSet> sets = new ArrayList<>();
        List<DomainSet> domains = new ArrayList<>();
        List<AddressBlock> inline = new ArrayList<>();
        for (Item item : in.textList(node, path)) {
            ClientSet set = clientSets.get(item.text());
            if (set != null) {
                entries.add(item.text());
                sets.add(set.addresses());
                domains.add(set.domains());
            } else if (item.text().indexOf('.') > 0 && HostPort.isHostName(item.text())) {
                in.problem(item.position(), item.path(),
                        "\"" + item.text() + "\" is not a client set; a domain goes in a"
                                + " client set, which this list then names (expected clientSets: {partners: {domains: ["
                                + item.text() + "]}} and partners here)");
            } else if (looksLikeAddress(item.text())) {
                ctx.addressBlock(item).ifPresent(b -> {
                    entries.add(item.text());
                    inline.add(b);
                });
            } else {
                in.problem(item.position(), item.path(), "unknown client set \"" + item.text() + "\" (expected "
                        + LoadContext.known(clientSets.keySet(), "client sets")
                        + ", or an address or CIDR such as 10.0.0.0/8)");
            }
        }
        sets.add(AddressSet.of(inline));
        return new ClientList(entries, AddressSet.union(sets), DomainSet.union(domains));
    }

    private static boolean looksLikeAddress(String text) {
        if (text.isEmpty()) {
            return false;
        }
        char c = text.charAt(0);
        return Character.digit(c, 16) >= 0
                && (text.indexOf('.') >= 0 || text.indexOf(':') >= 0 || text.indexOf('/') >= 0)
                || c == ':' || text.chars().allMatch(Character::isDigit);
    }
}
