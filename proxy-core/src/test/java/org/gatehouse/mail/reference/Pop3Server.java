package org.gatehouse.mail.reference;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How a POP3 server reads the AUTHORIZATION state. {@link #dovecot()} reads as Dovecot 2.3's pop3-login (Debian's
 * 2.3.19.1 with its security fixes, plaintext allowed, no TLS; checked against the real one by
 * {@code interop/models.sh}):
 *
 * <ul>
 *   <li>LF ends a line, one CR before it dropped;
 *   <li>the command is at most 8 octets before a space or a NUL, CRs anywhere in it left out, in any case ("NOOP\rPASS
 *       x" is the command NOOPPAS); one space after it is skipped, and the rest of the line, to a NUL, is its argument;
 *   <li>before login it knows CAPA, USER, PASS, APOP (not enabled), AUTH, STLS (no TLS), QUIT and XCLIENT; anything
 *       else, NOOP too, is an unknown command, and the third in a row ends the session;
 *   <li>AUTH: the mechanism runs to a space or a CR (a TAB is part of it); none at all ("AUTH", "AUTH  PLAIN") lists
 *       the mechanisms; the rest of the line is the initial response, passed to the authentication server as it is; a
 *       later response must be base64 (or "*", which cancels) or the login fails there;
 *   <li>an unfinished line over its 1026-octet input buffer ends the session, and so does a SASL response over 8192.
 * </ul>
 *
 * {@link #lenient()} is the most lenient legacy server: CR alone also ends a line, a NUL ends what it reads of one,
 * lines are read in 255-octet pieces, words split on any whitespace, and the command is its first four letters.
 */
public final class Pop3Server extends ModelServer {

    private static final Set<String> MECHANISMS = Set.of("PLAIN", "LOGIN", "CRAM-MD5");
    private static final int NAME_MAX = 8;
    private static final int INPUT_BUFFER = 1026;
    private static final int AUTH_BUFFER = 8192;
    private static final int MAX_BAD_COMMANDS = 3;

    private String user;
    private String mechanism;
    private int saslStep;
    private int badCommands;

    private Pop3Server(String name, boolean lenient) {
        super(name, lenient, lenient ? LineReader.Rules.lenient(255) : LineReader.Rules.lfOnly(0));
    }

    public static Pop3Server dovecot() {
        return new Pop3Server("dovecot-pop3", false);
    }

    public static Pop3Server lenient() {
        return new Pop3Server("lenient-pop3", true);
    }

    @Override
    public String greeting() {
        return "+OK Model ready.\r\n";
    }

    @Override
    public String receive(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        in.add(bytes);
        while (!closed) {
            String line = in.line();
            if (line == null) {
                if (!lenient) {
                    out.append(overflow(in.unread()));
                }
                break;
            }
            if (mechanism != null) {
                out.append(response(line));
            } else {
                out.append(lenient ? command(line) : dovecotCommand(line));
            }
        }
        return out.toString();
    }

    // ---- Dovecot --------------------------------------------------------------------------------------------------

    private String dovecotCommand(String line) {
        StringBuilder verb = new StringBuilder();
        int i = nameEnd(line, verb);
        String rest = line.substring(i < line.length() && line.charAt(i) == ' ' ? i + 1 : i);
        if (verb.toString().equals("AUTH")) {
            commands.add("AUTH" + (rest.isEmpty() ? "" : " " + rest));
            return dovecotAuth(rest);
        }
        String args = cString(rest);
        commands.add(verb + (args.isEmpty() ? "" : " " + args));
        String reply = switch (verb.toString()) {
            case "CAPA" -> "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\n"
                    + "SASL PLAIN LOGIN CRAM-MD5\r\n.\r\n";
            case "USER" -> {
                user = args;
                yield "+OK\r\n";
            }
            case "PASS" -> {
                if (user == null) {
                    yield "-ERR No username given.\r\n";
                }
                logins.add(new Login("PASS", "", true));
                user = null;
                yield "-ERR [AUTH] Authentication failed.\r\n";
            }
            case "APOP" -> "-ERR APOP not enabled.\r\n";
            case "STLS" -> "-ERR TLS support isn't enabled.\r\n";
            case "XCLIENT", "XOIP" -> "+OK You are not from trusted IP - ignoring\r\n";
            case "QUIT" -> {
                closed = true;
                yield "+OK Logging out\r\n";
            }
            default -> null;
        };
        if (reply != null) {
            badCommands = 0;
            return reply;
        }
        if (++badCommands >= MAX_BAD_COMMANDS) {
            closed = true;
            return "-ERR Unknown command.\r\n-ERR Too many invalid bad commands.\r\n";
        }
        return "-ERR Unknown command.\r\n";
    }

    /**
     * Where pop3-login's command name ends in {@code text}: at a space or NUL, or once 8 octets are behind it, CRs not
     * counting as an end (the length of what is available when nothing ends it). The name, CRs left out and in upper
     * case, is appended to {@code verb}.
     */
    private static int nameEnd(String text, StringBuilder verb) {
        int i = 0;
        for (; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\r') {
                continue;
            }
            if (c == ' ' || c == '\0' || c == '\n' || i >= NAME_MAX) {
                return i;
            }
            verb.append(c >= 'a' && c <= 'z' ? (char) (c - 32) : c);
        }
        return i;
    }

    private String dovecotAuth(String rest) {
        int end = 0;
        while (end < rest.length() && rest.charAt(end) != ' ' && rest.charAt(end) != '\r') {
            end++;
        }
        if (end == 0) {
            // No mechanism: the old SASL discovery (Outlook), and the rest of the line is skipped.
            return "+OK\r\nPLAIN\r\nLOGIN\r\nCRAM-MD5\r\n.\r\n";
        }
        String mech = SmtpServer.ascii(cString(rest.substring(0, end)));
        String ir = cString(rest.substring(end < rest.length() && rest.charAt(end) == ' ' ? end + 1 : end));
        if (!MECHANISMS.contains(mech)) {
            return "-ERR [AUTH] Unsupported authentication mechanism.\r\n";
        }
        mechanism = mech;
        saslStep = 0;
        // The initial response goes to the authentication server as it is: "=" is an empty one, CRAM-MD5 ignores it,
        // LOGIN takes it for the user name, anything that does not decode fails there.
        if (ir.isEmpty() || (!ir.equals("=") && SmtpServer.base64(ir) && mech.equals("CRAM-MD5"))
                || (ir.equals("=") && !mech.equals("PLAIN"))) {
            return mech.equals("LOGIN") ? "+ VXNlcm5hbWU6\r\n" : "+ \r\n";
        }
        if (mech.equals("LOGIN") && SmtpServer.base64(ir)) {
            saslStep = 1;
            return "+ UGFzc3dvcmQ6\r\n";
        }
        logins.add(new Login("AUTH", mech, !mech.equals("CRAM-MD5")));
        mechanism = null;
        return "-ERR [AUTH] Authentication failed.\r\n";
    }

    /** What Dovecot does with the unfinished line it holds: end the session when it outgrows its buffer. */
    private String overflow(String unread) {
        if (mechanism != null) {
            if (unread.length() > AUTH_BUFFER) {
                closed = true;
            }
            return "";
        }
        StringBuilder verb = new StringBuilder();
        int i = nameEnd(unread, verb);
        if (i == unread.length() && i < NAME_MAX) {
            return ""; // the name is not complete yet
        }
        int held = unread.length() - i - (i < unread.length() && unread.charAt(i) == ' ' ? 1 : 0);
        if (verb.toString().equals("AUTH")) {
            // The mechanism is taken off the buffer once a space or CR ends it, the initial response as it arrives.
            if (held > AUTH_BUFFER) {
                closed = true;
            }
            return "";
        }
        if (held > INPUT_BUFFER) {
            closed = true;
            return "-ERR Input buffer full, aborting\r\n";
        }
        return "";
    }

    private static String cString(String s) {
        int nul = s.indexOf('\0');
        return nul < 0 ? s : s.substring(0, nul);
    }

    // ---- the lenient legacy server, and what both share --------------------------------------------------------

    private String command(String line) {
        List<String> words = SmtpServer.words(line);
        String first = words.isEmpty() ? "" : words.get(0).toUpperCase(Locale.ROOT);
        String verb = first.length() > 4 ? first.substring(0, 4) : first;
        int at = line.toUpperCase(Locale.ROOT).indexOf(first) + first.length();
        String args = line.substring(Math.min(at, line.length())).strip();
        commands.add(verb + (args.isEmpty() ? "" : " " + args));
        return switch (verb) {
            case "CAPA" -> "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nUSER\r\nSASL PLAIN LOGIN CRAM-MD5\r\n.\r\n";
            case "USER" -> {
                user = args;
                yield "+OK\r\n";
            }
            case "PASS" -> {
                logins.add(new Login("PASS", "", true));
                user = null;
                yield "-ERR [AUTH] Authentication failed.\r\n";
            }
            case "APOP" -> {
                logins.add(new Login("APOP", "", false));
                yield "-ERR [AUTH] Authentication failed.\r\n";
            }
            case "AUTH" -> auth(args);
            case "QUIT" -> {
                closed = true;
                yield "+OK Logging out\r\n";
            }
            case "NOOP" -> "+OK\r\n";
            default -> "-ERR Unknown command.\r\n";
        };
    }

    private String auth(String args) {
        List<String> words = SmtpServer.words(args);
        if (words.isEmpty()) {
            return "+OK\r\nPLAIN\r\nLOGIN\r\nCRAM-MD5\r\n.\r\n";
        }
        String mech = words.get(0).toUpperCase(Locale.ROOT);
        if (!MECHANISMS.contains(mech)) {
            return "-ERR Unsupported authentication mechanism.\r\n";
        }
        mechanism = mech;
        saslStep = 0;
        if (words.size() > 1) {
            return response(words.get(1));
        }
        return mech.equals("LOGIN") ? "+ VXNlcm5hbWU6\r\n" : "+ \r\n";
    }

    private String response(String raw) {
        String line = lenient ? raw : cString(raw);
        if (lenient ? line.trim().equals("*") : line.equals("*")) {
            mechanism = null;
            return "-ERR Authentication aborted by client.\r\n";
        }
        if (!lenient && !SmtpServer.base64(line)) {
            mechanism = null;
            return "-ERR [AUTH] Invalid base64 in response\r\n";
        }
        if (mechanism.equals("LOGIN") && saslStep == 0) {
            saslStep = 1;
            return "+ UGFzc3dvcmQ6\r\n";
        }
        logins.add(new Login("AUTH", mechanism, !mechanism.equals("CRAM-MD5")));
        mechanism = null;
        return "-ERR [AUTH] Authentication failed.\r\n";
    }
}
