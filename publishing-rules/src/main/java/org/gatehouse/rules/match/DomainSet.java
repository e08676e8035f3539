package org.gatehouse.rules.match;

import java.net.IDN;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * An immutable set of DNS domains; a name matches when it is one of them or lies under one ({@code contoso.com}
 * matches {@code contoso.com} and {@code mail.eu.contoso.com}, never {@code badcontoso.com}).
 *
 * <p>Domains and names compare in lower-case ASCII without a trailing dot; internationalised names are held in their
 * ASCII (punycode) form, which is what reverse DNS returns. A lookup costs one hash probe per label of the name.
 */
public final class DomainSet {

    private static final DomainSet EMPTY = new DomainSet(List.of());

    private final List<String> domains;
    private final Set<String> lookup;

    private DomainSet(List<String> domains) {
        this.domains = List.copyOf(domains);
        this.lookup = Set.copyOf(domains);
    }

    public static DomainSet empty() {
        return EMPTY;
    }

    /** A set of domains already in {@link #canonical} form. */
    public static DomainSet of(Collection<String> domains) {
        if (domains.isEmpty()) {
            return EMPTY;
        }
        LinkedHashSet<String> unique = new LinkedHashSet<>();
        for (String d : domains) {
            String c = canonical(d);
            if (!c.equals(d)) {
                throw new IllegalArgumentException("not canonical: " + d + " (expected " + c + ")");
            }
            unique.add(c);
        }
        return new DomainSet(List.copyOf(unique));
    }

    public static DomainSet union(Collection<DomainSet> sets) {
        LinkedHashSet<String> all = new LinkedHashSet<>();
        sets.forEach(s -> all.addAll(s.domains));
        return all.isEmpty() ? EMPTY : new DomainSet(List.copyOf(all));
    }

    /**
     * The form a domain is matched in: ASCII, lower case, no trailing dot. The message of the exception says what is
     * wrong with a domain that is not one.
     */
    public static String canonical(String domain) {
        String text = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
        if (text.startsWith("*.")) {
            throw new IllegalArgumentException('"' + domain + "\" has a wildcard (expected " + text.substring(2)
                    + ", which already covers every name under it)");
        }
        int slash = text.indexOf('/');
        if (IpLiteral.parse(slash < 0 ? text : text.substring(0, slash)).isPresent()) {
            throw new IllegalArgumentException(
                    '"' + domain + "\" is an address, not a domain (expected it under addresses)");
        }
        String ascii;
        try {
            ascii = IDN.toASCII(text, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException('"' + domain + "\" is not a domain name (expected: contoso.com)");
        }
        if (!HostName.isValid(ascii)) {
            throw new IllegalArgumentException('"' + domain + "\" is not a domain name (expected: contoso.com)");
        }
        return ascii;
    }

    public boolean isEmpty() {
        return domains.isEmpty();
    }

    /** The domains, in the order first written. */
    public List<String> domains() {
        return domains;
    }

    /** Whether {@code name} (as reverse DNS returned it: any case, trailing dot or not) is in one of the domains. */
    public boolean matches(String name) {
        if (lookup.isEmpty() || name.isEmpty()) {
            return false;
        }
        String n = normalizeName(name);
        int from = 0;
        while (true) {
            if (lookup.contains(from == 0 ? n : n.substring(from))) {
                return true;
            }
            int dot = n.indexOf('.', from);
            if (dot < 0) {
                return false;
            }
            from = dot + 1;
        }
    }

    /** Whether any of {@code names} matches. */
    public boolean matchesAny(Collection<String> names) {
        for (String name : names) {
            if (matches(name)) {
                return true;
            }
        }
        return false;
    }

    private static String normalizeName(String name) {
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return n.toLowerCase(Locale.ROOT);
            }
        }
        return n;
    }

    /** Whether two sets hold the same domains, in any order. */
    @Override
    public boolean equals(Object o) {
        return o instanceof DomainSet other && lookup.equals(other.lookup);
    }

    @Override
    public int hashCode() {
        return lookup.hashCode();
    }

    @Override
    public String toString() {
        return domains.toString();
    }
}
