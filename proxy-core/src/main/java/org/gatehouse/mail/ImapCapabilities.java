package org.gatehouse.mail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gatehouse.login.LoginGuard;

/**
 * The capability list an IMAP client is shown: the server's, less what the login policy or the gateway's framing rules
 * out (LITERAL+/-, the server's own STARTTLS, AUTH= mechanisms the policy refuses), plus the gateway's STARTTLS and
 * LOGINDISABLED where they apply. From {@code * CAPABILITY} responses and {@code [CAPABILITY …]} codes alike.
 */
final class ImapCapabilities {

    private static final Pattern CAPABILITY_CODE = Pattern.compile("\\[CAPABILITY ([^\\]]*)\\]",
            Pattern.CASE_INSENSITIVE);

    /** The line as the client should see it; {@code binary} is null when the line lists no capabilities. */
    record Rewritten(String line, Boolean binary) {
    }

    private ImapCapabilities() {
    }

    static Rewritten rewrite(String line, LoginGuard guard, boolean tlsActive, boolean offerStarttls) {
        if (CommandLines.startsWithIgnoreCase(line, "* CAPABILITY ")) {
            String list = line.substring(13);
            return new Rewritten(line.substring(0, 13) + filter(list, guard, tlsActive, offerStarttls),
                    offersBinary(list));
        }
        Matcher m = CAPABILITY_CODE.matcher(line);
        if (m.find()) {
            return new Rewritten(line.substring(0, m.start(1)) + filter(m.group(1), guard, tlsActive, offerStarttls)
                    + line.substring(m.end(1)), offersBinary(m.group(1)));
        }
        return new Rewritten(line, null);
    }

    private static boolean offersBinary(String list) {
        for (String capability : list.trim().split(" +")) {
            if (capability.equalsIgnoreCase("BINARY")) {
                return true;
            }
        }
        return false;
    }

    private static String filter(String list, LoginGuard guard, boolean tlsActive, boolean offerStarttls) {
        guard.capabilitiesShown(tlsActive, "CAPABILITY");
        List<String> kept = new ArrayList<>();
        boolean loginDisabled = false;
        for (String capability : list.trim().split(" +")) {
            String upper = capability.toUpperCase(Locale.ROOT);
            if (upper.equals("LITERAL+") || upper.equals("LITERAL-")) {
                continue; // a non-synchronizing literal is not confirmed by the server: not before login
            }
            if (upper.equals("STARTTLS")) {
                continue; // the backend's own: TLS is the gateway's to offer
            }
            if (upper.startsWith("AUTH=") && !guard.offers(tlsActive, upper.substring(5))) {
                continue;
            }
            loginDisabled |= upper.equals("LOGINDISABLED");
            kept.add(capability);
        }
        if (offerStarttls) {
            kept.add("STARTTLS");
        }
        if (!loginDisabled && guard.refusesPlaintext(tlsActive)) {
            kept.add("LOGINDISABLED");
        }
        String result = String.join(" ", kept);
        return result.equals(list) ? list : result;
    }
}
