package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.DomainSet;

/**
 * A named group of clients, defined once under {@code clientSets:} and referred to by name from rules. A client is in
 * the set when its address is in {@code addresses} or its forward-confirmed reverse-DNS name is in {@code domains}.
 *
 * @param blocks    the address entries as written (canonical form)
 * @param addresses the same entries, compiled for matching
 * @param domains   the domains; each covers itself and every name under it
 */
public record ClientSet(String name, List<AddressBlock> blocks, AddressSet addresses, DomainSet domains,
        SourcePosition position) {

    public ClientSet {
        requireNonNull(name, "name");
        blocks = List.copyOf(blocks);
        requireNonNull(addresses, "addresses");
        requireNonNull(domains, "domains");
        requireNonNull(position, "position");
    }

    public static ClientSet of(String name, List<AddressBlock> blocks, DomainSet domains, SourcePosition position) {
        return new ClientSet(name, blocks, AddressSet.of(blocks), domains, position);
    }
}
