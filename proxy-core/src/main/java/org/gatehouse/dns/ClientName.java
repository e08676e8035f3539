package org.gatehouse.dns;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What reverse DNS says about one client address. {@link #result()} is the word used in the access log ({@code rdns=})
 * and as the {@code result} tag of lookup metrics.
 */
public sealed interface ClientName {

    String result();

    /** The names whose PTR record points at the client and whose A/AAAA records point back: the only names that count. */
    default List<String> verifiedNames() {
        return List.of();
    }

    /** At least one PTR name was confirmed by its forward records; in PTR order, lower case, no trailing dot. */
    record Verified(List<String> names) implements ClientName {
        public Verified {
            names = List.copyOf(names);
            if (names.isEmpty()) {
                throw new IllegalArgumentException("a verified client has a name");
            }
        }

        @Override
        public String result() {
            return "verified";
        }

        @Override
        public List<String> verifiedNames() {
            return names;
        }
    }

    /** DNS answered, and the answer is that the client has no name: NXDOMAIN or no PTR record. */
    enum NoName implements ClientName {
        NXDOMAIN;

        @Override
        public String result() {
            return "nxdomain";
        }
    }

    /**
     * The PTR record names a host whose forward records do not contain the client's address: whoever controls the
     * client's reverse zone wrote it, and it buys nothing.
     *
     * @param claimed the first name the PTR record gave, for the log
     */
    record NotConfirmed(String claimed) implements ClientName {
        public NotConfirmed {
            requireNonNull(claimed, "claimed");
        }

        @Override
        public String result() {
            return "not-confirmed";
        }
    }

    /** No answer that can be trusted either way; {@code dns.onFailure} decides what it means. */
    enum Failure implements ClientName {
        /** No answer within {@code dns.timeout}. */
        TIMEOUT("timeout"),
        /** A resolver answered SERVFAIL (or REFUSED, or another error code). */
        SERVFAIL("servfail"),
        /** No resolver is configured: {@code dns.servers} is empty and /etc/resolv.conf names none. */
        NO_RESOLVER("no-resolver"),
        /** Anything else: a transport error, a malformed answer, the gateway shutting down. */
        ERROR("error");

        private final String result;

        Failure(String result) {
            this.result = result;
        }

        @Override
        public String result() {
            return result;
        }
    }
}
