package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;

/**
 * A named group of clients, defined once under {@code clientSets:} and referred to by name from rules.
 *
 * @param blocks    the entries as written (canonical form)
 * @param addresses the same entries, compiled for matching
 */
public record ClientSet(String name, List<AddressBlock> blocks, AddressSet addresses, SourcePosition position) {

    public ClientSet {
        requireNonNull(name, "name");
        blocks = List.copyOf(blocks);
        requireNonNull(addresses, "addresses");
        requireNonNull(position, "position");
    }

    public static ClientSet of(String name, List<AddressBlock> blocks, SourcePosition position) {
        return new ClientSet(name, blocks, AddressSet.of(blocks), position);
    }
}
