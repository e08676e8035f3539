package org.gatehouse.mail.reference;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How a POP3 server reads the AUTHORIZATION state. {@link #dovecot()} reads as Dovecot 2.3's pop3-login: LF ends a
 * line (a CR before it dropped), the command is what precedes the first space, in any case, and a line over 4096
 * octets ends the session. {@link #lenient()} is the most lenient legacy server: CR alone also ends a line, a NUL ends
 * what it reads of one, lines are read in 255-octet pieces, words split on any whitespace, and the command is its
 * first four letters.
 */
public final class Pop3Server implements ReferenceServer {

    private static final Set<String> MECHANISMS = Set.of("PLAIN", "LOGIN", "CRAM-MD5");

    private final String name;
    private final boolean lenient;
    private final LineReader in;
    private final List<Login> logins = new ArrayList<>();
    private final List<String> commands = new ArrayList<>();
    private boolean closed;
    private String user;
    private String mechanism;
    private int saslStep;

    private Pop3Server(String name, boolean lenient) {
        this.name = name;
        this.lenient = lenient;
        this.in = new LineReader(lenient ? LineReader.Rules.lenient(255) : LineReader.Rules.lfOnly(0));
    }

    public static Pop3Server dovecot() {
        return new Pop3Server("dovecot-pop3", false);
    }

    public static Pop3Server lenient() {
        return new Pop3Server("lenient-pop3", true);
    }

    @Override
    public String name() {
        return name;
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
                if (!lenient && in.available() > 4096) {
                    closed = true;
                    out.append("-ERR Input line too long.\r\n");
                }
                break;
            }
            out.append(mechanism != null ? response(line) : command(line));
        }
        return out.toString();
    }

    private String command(String line) {
        String verb;
        String args;
        if (lenient) {
            List<String> words = SmtpServer.words(line);
            String first = words.isEmpty() ? "" : words.get(0).toUpperCase(Locale.ROOT);
            verb = first.length() > 4 ? first.substring(0, 4) : first;
            int at = line.toUpperCase(Locale.ROOT).indexOf(first) + first.length();
            args = line.substring(Math.min(at, line.length())).strip();
        } else {
            int space = line.indexOf(' ');
            verb = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
            args = space < 0 ? "" : line.substring(space + 1);
        }
        commands.add(verb + (args.isEmpty() ? "" : " " + args));
        return switch (verb) {
            case "CAPA" -> "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nUSER\r\nSASL PLAIN LOGIN CRAM-MD5\r\n.\r\n";
            case "USER" -> {
                user = args;
                yield "+OK\r\n";
            }
            case "PASS" -> {
                if (user == null && !lenient) {
                    yield "-ERR No username given.\r\n";
                }
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

    private String response(String line) {
        if (line.trim().equals("*")) {
            mechanism = null;
            return "-ERR Authentication aborted by client.\r\n";
        }
        if (mechanism.equals("LOGIN") && saslStep == 0) {
            saslStep = 1;
            return "+ UGFzc3dvcmQ6\r\n";
        }
        logins.add(new Login("AUTH", mechanism, !mechanism.equals("CRAM-MD5")));
        mechanism = null;
        return "-ERR [AUTH] Authentication failed.\r\n";
    }

    @Override
    public List<Login> logins() {
        return logins;
    }

    @Override
    public List<String> commands() {
        return commands;
    }

    @Override
    public int messages() {
        return 0;
    }

    @Override
    public boolean closed() {
        return closed;
    }
}
