package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;

/**
 * Whom a rule admits. Precedence, in order: a client on the deny list is refused; else, when there is no allow list,
 * every client is admitted; else only clients on the allow list are.
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

    /** The decision for one client address. Never looks anything up. */
    public AccessDecision decide(InetAddress client) {
        byte[] bytes = client.getAddress();
        if (deny.addresses().contains(bytes)) {
            return new AccessDecision.Denied(AccessDecision.Reason.DENY_LIST);
        }
        if (allowAll) {
            return AccessDecision.Admitted.ANY_CLIENT;
        }
        if (allow.addresses().contains(bytes)) {
            return AccessDecision.Admitted.ALLOW_LIST;
        }
        return new AccessDecision.Denied(AccessDecision.Reason.NOT_ALLOWED);
    }
}
