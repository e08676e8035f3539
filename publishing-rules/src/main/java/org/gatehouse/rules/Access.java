package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.util.Collection;

/**
 * Whom a rule admits. Precedence, in order: a client on the deny list (by address, then by verified name) is refused;
 * else, when there is no allow list, every client is admitted; else only clients on the allow list (by address or by
 * verified name) are.
 *
 * <p>Deciding takes one or two steps. {@link #decide(InetAddress)} uses the address alone and answers
 * {@link AccessDecision.Pending#NAME_REQUIRED} only when a domain could still change the outcome: a client denied by
 * address, or admitted by address with no deny domains, never costs a DNS lookup. {@link #decide(InetAddress,
 * Collection)} then decides with the client's verified names (none if it has none).
 *
 * @param allowAll whether the allow list was absent (any client)
 * @param allow    the allow list (empty when {@code allowAll})
 * @param deny     the deny list, which wins over the allow list
 */
public record Access(boolean allowAll, ClientList allow, ClientList deny) {

    private static final Access ANY = new Access(true, ClientList.empty(), ClientList.empty());

    public Access {
        requireNonNull(allow, "allow");
        requireNonNull(deny, "deny");
        if (allowAll && !allow.isEmpty()) {
            throw new IllegalArgumentException("allowAll with a non-empty allow list");
        }
    }

    /** No restriction. */
    public static Access any() {
        return ANY;
    }

    /** Whether either list names a domain, so that some clients need a reverse-DNS lookup. */
    public boolean usesDomains() {
        return !allow.domains().isEmpty() || !deny.domains().isEmpty();
    }

    /** The decision on the address alone; never looks anything up. */
    public AccessDecision decide(InetAddress client) {
        byte[] bytes = client.getAddress();
        if (deny.addresses().contains(bytes)) {
            return new AccessDecision.Denied(AccessDecision.Reason.DENY_LIST);
        }
        if (!deny.domains().isEmpty()) {
            return AccessDecision.Pending.NAME_REQUIRED;
        }
        if (allowAll) {
            return AccessDecision.Admitted.ANY_CLIENT;
        }
        if (allow.addresses().contains(bytes)) {
            return AccessDecision.Admitted.ALLOW_LIST;
        }
        if (!allow.domains().isEmpty()) {
            return AccessDecision.Pending.NAME_REQUIRED;
        }
        return new AccessDecision.Denied(AccessDecision.Reason.NOT_ALLOWED);
    }

    /**
     * The final decision, given the client's forward-confirmed names. With no names (none verified, or domain rules
     * ignored after a DNS failure) only the address entries decide.
     */
    public AccessDecision decide(InetAddress client, Collection<String> verifiedNames) {
        byte[] bytes = client.getAddress();
        if (deny.addresses().contains(bytes)) {
            return new AccessDecision.Denied(AccessDecision.Reason.DENY_LIST);
        }
        if (deny.domains().matchesAny(verifiedNames)) {
            return new AccessDecision.Denied(AccessDecision.Reason.DENY_DOMAIN);
        }
        if (allowAll) {
            return AccessDecision.Admitted.ANY_CLIENT;
        }
        if (allow.addresses().contains(bytes)) {
            return AccessDecision.Admitted.ALLOW_LIST;
        }
        if (allow.domains().matchesAny(verifiedNames)) {
            return AccessDecision.Admitted.ALLOW_DOMAIN;
        }
        return new AccessDecision.Denied(AccessDecision.Reason.NOT_ALLOWED);
    }
}
