package org.gatehouse.relay;

import static java.util.Objects.requireNonNull;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.gatehouse.rules.Backend.ClientIdentity;
import org.gatehouse.rules.Protocol;

/**
 * What the gateway says to a mail server, between its greeting and the client's first command, to tell it the real
 * client's address in its own protocol (SMTP and POP3 {@code XCLIENT}, IMAP {@code ID}): one server line at a time in,
 * the commands to send and how it ended out. No Netty: {@link ClientIdentityExchange} does the bytes. Every dialogue
 * first checks that the server offers the command, and ends the moment it knows the answer, so the server is back in
 * the state its greeting left it in, ready for the client's own first command.
 */
interface IdentityDialogue {

    /** A server line, without its line ending. */
    Step read(String line);

    /** How a dialogue ended, or that it has not yet. */
    enum Outcome {
        PENDING("pending"),
        /** The server took the client's address. */
        SENT("sent"),
        /** The server does not offer the command (to this gateway): it sees the gateway's address. */
        NOT_OFFERED("not-offered"),
        /** The server offers the command and answered it with an error. */
        REFUSED("refused"),
        /** The server's greeting turned the client away (or logged it in): nothing to tell it. */
        SKIPPED("skipped");

        private final String label;

        Outcome(String label) {
            this.label = label;
        }

        /** The word in the metric and the log. */
        String label() {
            return label;
        }
    }

    /**
     * What one server line leads to.
     *
     * @param greetingEnds whether the line was the last of the server's greeting: the lines so far are what the client
     *                     gets, everything after belongs to the dialogue and is never shown to it
     * @param send         commands to send to the server now (without line endings)
     * @param outcome      {@link Outcome#PENDING} while the dialogue goes on
     */
    record Step(boolean greetingEnds, List<String> send, Outcome outcome) {
        static final Step MORE = new Step(false, List.of(), Outcome.PENDING);

        public Step {
            send = List.copyOf(send);
            requireNonNull(outcome, "outcome");
        }

        static Step endOfGreeting(String command) {
            return new Step(true, List.of(command), Outcome.PENDING);
        }

        static Step send(String command) {
            return new Step(false, List.of(command), Outcome.PENDING);
        }

        static Step ended(boolean greetingEnds, Outcome outcome) {
            return new Step(greetingEnds, List.of(), outcome);
        }
    }

    /**
     * The dialogue for a rule's protocol and {@code clientIdentity}.
     *
     * @param client     the real client
     * @param clientName its forward-confirmed reverse-DNS name, if the gateway looked it up
     * @param gateway    the gateway's own end of the backend connection (its EHLO name)
     */
    static IdentityDialogue of(ClientIdentity identity, Protocol protocol, InetSocketAddress client,
            Optional<String> clientName, InetSocketAddress gateway) {
        return switch (identity) {
            case XCLIENT -> protocol == Protocol.SMTP
                    ? new SmtpXclient(client, clientName, addressLiteral(gateway))
                    : new Pop3Xclient(client);
            case IMAP_ID -> new ImapId(client);
            default -> throw new IllegalArgumentException(identity.configName() + " is not said in the protocol");
        };
    }

    /** The address as it stands in a command: bare, without the brackets or zone that Java may add. */
    static String address(InetSocketAddress address) {
        String text = address.getAddress().getHostAddress();
        int zone = text.indexOf('%');
        return zone < 0 ? text : text.substring(0, zone);
    }

    /** An SMTP address literal (RFC 5321 4.1.3): {@code [192.0.2.1]} or {@code [IPv6:2001:db8::1]}. */
    static String addressLiteral(InetSocketAddress address) {
        return address.getAddress() instanceof Inet6Address
                ? "[IPv6:" + address(address) + "]"
                : "[" + address(address) + "]";
    }
}
