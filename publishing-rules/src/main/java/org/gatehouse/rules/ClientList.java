package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.gatehouse.rules.match.AddressSet;

/**
 * One of a rule's access lists ({@code allow} or {@code deny}): client-set names and inline addresses, as written,
 * and the union of all their addresses.
 *
 * @param entries   the words of the list as written, for display ("corp", "127.0.0.0/8")
 * @param addresses every address the list covers
 */
public record ClientList(List<String> entries, AddressSet addresses) {

    private static final ClientList EMPTY = new ClientList(List.of(), AddressSet.empty());

    public ClientList {
        entries = List.copyOf(entries);
        requireNonNull(addresses, "addresses");
    }

    public static ClientList empty() {
        return EMPTY;
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }
}
