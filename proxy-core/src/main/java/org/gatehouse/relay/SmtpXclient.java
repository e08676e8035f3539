package org.gatehouse.relay;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Postfix's XCLIENT (XCLIENT_README): after the 220 greeting, {@code EHLO} to see whether XCLIENT is offered to this
 * gateway and which attributes, then {@code XCLIENT ADDR= PORT= NAME=} with those it names. Postfix answers a
 * successful XCLIENT with a new 220 greeting, as if the client had just connected; the client's own EHLO follows.
 * HELO and PROTO are not sent: they come from the client's own EHLO, which Postfix reads after XCLIENT.
 */
final class SmtpXclient implements IdentityDialogue {

    private enum State {
        GREETING,
        EHLO,
        XCLIENT
    }

    private final InetSocketAddress client;
    private final Optional<String> clientName;
    private final String ehloName;
    private State state = State.GREETING;
    private final Set<String> offered = new HashSet<>();
    private boolean xclientOffered;

    SmtpXclient(InetSocketAddress client, Optional<String> clientName, String ehloName) {
        this.client = client;
        this.clientName = clientName;
        this.ehloName = ehloName;
    }

    @Override
    public Step read(String line) {
        boolean last = line.length() < 4 || line.charAt(3) != '-';
        String code = line.length() >= 3 ? line.substring(0, 3) : line;
        switch (state) {
            case GREETING -> {
                if (!last) {
                    return Step.MORE;
                }
                if (!code.equals("220")) {
                    return Step.ended(true, Outcome.SKIPPED);
                }
                state = State.EHLO;
                return Step.endOfGreeting("EHLO " + ehloName);
            }
            case EHLO -> {
                if (code.equals("250") && line.length() > 4) {
                    keyword(line.substring(4));
                }
                if (!last) {
                    return Step.MORE;
                }
                if (!code.equals("250") || !xclientOffered) {
                    return Step.ended(false, Outcome.NOT_OFFERED);
                }
                state = State.XCLIENT;
                return Step.send(command());
            }
            default -> {
                // A successful XCLIENT is answered with a new greeting; anything else leaves the session as it was.
                if (!last) {
                    return Step.MORE;
                }
                return Step.ended(false, code.equals("220") ? Outcome.SENT : Outcome.REFUSED);
            }
        }
    }

    private void keyword(String text) {
        String[] words = text.trim().split("\\s+");
        if (words[0].equalsIgnoreCase("XCLIENT")) {
            xclientOffered = true;
            for (int i = 1; i < words.length; i++) {
                offered.add(words[i].toUpperCase(Locale.ROOT));
            }
        }
    }

    private String command() {
        List<String> attributes = new ArrayList<>();
        String address = IdentityDialogue.address(client);
        attributes.add("ADDR=" + xtext(client.getAddress() instanceof Inet6Address ? "IPV6:" + address : address));
        if (offered.contains("PORT")) {
            attributes.add("PORT=" + client.getPort());
        }
        if (offered.contains("NAME")) {
            // Postfix's own word for a client without a confirmed name; it does not look the name up itself.
            attributes.add("NAME=" + xtext(clientName.orElse("[UNAVAILABLE]")));
        }
        return "XCLIENT " + String.join(" ", attributes);
    }

    /** RFC 3461 xtext: printable ASCII except {@code +} and {@code =} as itself, the rest as {@code +XX}. */
    static String xtext(String value) {
        StringBuilder out = new StringBuilder(value.length());
        for (char c : value.toCharArray()) {
            if (c >= 33 && c <= 126 && c != '+' && c != '=') {
                out.append(c);
            } else {
                out.append('+').append(String.format(Locale.ROOT, "%02X", c & 0xff));
            }
        }
        return out.toString();
    }
}
