package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

/** The outcome of checking a client against a rule's access lists. */
public sealed interface AccessDecision {

    /** The client may connect. */
    enum Admitted implements AccessDecision {
        /** The rule has no allow list. */
        ANY_CLIENT,
        /** The client's address is on the allow list. */
        ALLOW_LIST,
        /** The client's verified reverse-DNS name is in a domain on the allow list. */
        ALLOW_DOMAIN
    }

    /** The address alone cannot decide: the lists name domains, so the client's verified name is needed. */
    enum Pending implements AccessDecision {
        NAME_REQUIRED
    }

    /** The client is refused before any TLS byte is exchanged. */
    record Denied(Reason reason) implements AccessDecision {
        public Denied {
            requireNonNull(reason, "reason");
        }
    }

    /** Why a client was refused; {@link #label()} is the word used in logs and metrics. */
    enum Reason {
        /** The address is on the deny list. */
        DENY_LIST("deny-list"),
        /** The verified name is in a domain on the deny list. */
        DENY_DOMAIN("deny-domain"),
        /** Neither the address nor a verified name is on the allow list. */
        NOT_ALLOWED("not-allowed"),
        /** The name could not be looked up (timeout, server failure) and {@code dns.onFailure} is {@code deny}. */
        DNS_FAILURE("dns-failure");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** Whether the client may succeed later without anything changing on its side. */
        public boolean temporary() {
            return this == DNS_FAILURE;
        }
    }
}
