package org.gatehouse.relay;

import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * Dovecot's POP3 XCLIENT (pop3-login, for clients in {@code login_trusted_networks}): Dovecot 2.3 offers it in the
 * greeting's response code ({@code +OK [XCLIENT] Dovecot ready.}), not in CAPA; a server that does not say so there is
 * asked with {@code CAPA}. Then {@code XCLIENT ADDR= PORT=}, answered {@code +OK} or {@code -ERR}.
 */
final class Pop3Xclient implements IdentityDialogue {

    private enum State {
        GREETING,
        CAPA_STATUS,
        CAPA_LIST,
        XCLIENT
    }

    private final InetSocketAddress client;
    private State state = State.GREETING;
    private boolean xclientOffered;

    Pop3Xclient(InetSocketAddress client) {
        this.client = client;
    }

    @Override
    public Step read(String line) {
        switch (state) {
            case GREETING -> {
                if (!line.startsWith("+OK")) {
                    return Step.ended(true, Outcome.SKIPPED);
                }
                if (line.toUpperCase(Locale.ROOT).startsWith("+OK [XCLIENT]")) {
                    state = State.XCLIENT;
                    return Step.endOfGreeting(command());
                }
                state = State.CAPA_STATUS;
                return Step.endOfGreeting("CAPA");
            }
            case CAPA_STATUS -> {
                if (!line.startsWith("+OK")) {
                    return Step.ended(false, Outcome.NOT_OFFERED);
                }
                state = State.CAPA_LIST;
                return Step.MORE;
            }
            case CAPA_LIST -> {
                if (!line.equals(".")) {
                    String word = line.trim().split("\\s+", 2)[0].toUpperCase(Locale.ROOT);
                    xclientOffered |= word.equals("XCLIENT");
                    return Step.MORE;
                }
                if (!xclientOffered) {
                    return Step.ended(false, Outcome.NOT_OFFERED);
                }
                state = State.XCLIENT;
                return Step.send(command());
            }
            default -> {
                return Step.ended(false, line.startsWith("+OK") ? Outcome.SENT : Outcome.REFUSED);
            }
        }
    }

    private String command() {
        return "XCLIENT ADDR=" + IdentityDialogue.address(client) + " PORT=" + client.getPort();
    }
}
