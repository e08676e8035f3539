package org.gatehouse.relay;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;

/**
 * IMAP ID (RFC 2971) with Dovecot's {@code x-originating-ip} and {@code x-originating-port}, which imap-login takes
 * from clients in {@code login_trusted_networks}: after the {@code * OK} greeting (whose {@code [CAPABILITY …]} code,
 * if it has one, says whether ID is offered; otherwise a {@code CAPABILITY} command asks), the ID command; its
 * untagged {@code * ID} answer and tagged completion are consumed.
 */
final class ImapId implements IdentityDialogue {

    static final String CAPABILITY_TAG = "gh1";
    static final String ID_TAG = "gh2";

    private enum State {
        GREETING,
        CAPABILITY,
        ID
    }

    private final InetSocketAddress client;
    private State state = State.GREETING;
    private boolean idOffered;

    ImapId(InetSocketAddress client) {
        this.client = client;
    }

    @Override
    public Step read(String line) {
        String upper = line.toUpperCase(Locale.ROOT);
        switch (state) {
            case GREETING -> {
                if (!upper.startsWith("* OK")) {
                    return Step.ended(true, Outcome.SKIPPED); // BYE, or PREAUTH: the session is not the gateway's
                }
                int code = upper.indexOf("[CAPABILITY ");
                if (code >= 0) {
                    int end = upper.indexOf(']', code);
                    idOffered = offersId(upper.substring(code + 1, end < 0 ? upper.length() : end));
                    return idOffered
                            ? new Step(true, List.of(idCommand()), Outcome.PENDING)
                            : Step.ended(true, Outcome.NOT_OFFERED);
                }
                state = State.CAPABILITY;
                return Step.endOfGreeting(CAPABILITY_TAG + " CAPABILITY");
            }
            case CAPABILITY -> {
                if (upper.startsWith("* CAPABILITY ")) {
                    idOffered |= offersId(upper.substring(2));
                    return Step.MORE;
                }
                if (!upper.startsWith(CAPABILITY_TAG.toUpperCase(Locale.ROOT) + " ")) {
                    return Step.MORE;
                }
                if (!idOffered || !upper.startsWith(CAPABILITY_TAG.toUpperCase(Locale.ROOT) + " OK")) {
                    return Step.ended(false, Outcome.NOT_OFFERED);
                }
                return Step.send(idCommand());
            }
            default -> {
                String tag = ID_TAG.toUpperCase(Locale.ROOT) + " ";
                if (!upper.startsWith(tag)) {
                    return Step.MORE; // * ID (…)
                }
                return Step.ended(false, upper.startsWith(tag + "OK") ? Outcome.SENT : Outcome.REFUSED);
            }
        }
    }

    private String idCommand() {
        state = State.ID;
        return ID_TAG + " ID (\"x-originating-ip\" \"" + IdentityDialogue.address(client)
                + "\" \"x-originating-port\" \"" + client.getPort() + "\")";
    }

    /** {@code CAPABILITY IMAP4rev1 … ID …}: whether ID is one of the words. */
    private static boolean offersId(String capability) {
        for (String word : capability.split("\\s+")) {
            if (word.equals("ID")) {
                return true;
            }
        }
        return false;
    }
}
