package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

/** The outcome of checking a client against a rule's access lists. */
public sealed interface AccessDecision {

    /** The client may connect. */
    enum Admitted implements AccessDecision {
        /** The rule has no allow list. */
        ANY_CLIENT,
        /** The client's address is on the allow list. */
        ALLOW_LIST
    }

    /** The client is refused before any TLS byte is exchanged. */
    record Denied(Reason reason) implements AccessDecision {
        public Denied {
            requireNonNull(reason, "reason");
        }
    }

    /** Why a client was refused; {@link #label()} is the word used in logs and metrics. */
    enum Reason {
        DENY_LIST("deny-list"),
        NOT_ALLOWED("not-allowed");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }
}
