package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.DomainSet;

/**
 * One of a rule's access lists ({@code allow} or {@code deny}): client-set names and inline addresses, as written,
 * and the union of all their addresses and domains.
 *
 * @param entries   the words of the list as written, for display ("corp", "127.0.0.0/8")
 * @param addresses every address the list covers
 * @param domains   every domain the list's client sets name
 */
public record ClientList(List<String> entries, AddressSet addresses, DomainSet domains) {

    private static final ClientList EMPTY = new ClientList(List.of(), AddressSet.empty(), DomainSet.empty());

    public ClientList {
        entries = List.copyOf(entries);
        requireNonNull(addresses, "addresses");
        requireNonNull(domains, "domains");
    }

    public static ClientList empty() {
        return EMPTY;
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }
}
