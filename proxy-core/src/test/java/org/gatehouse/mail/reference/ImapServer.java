package org.gatehouse.mail.reference;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How an IMAP server reads the not-authenticated state. {@link #dovecot()} reads as Dovecot 2.3's imap-login: LF ends a
 * line, the tag is what precedes the first space and must be a valid tag, the command follows one space, arguments are
 * atoms, quoted strings and literals ({@code {n}}, and {@code {n+}} since it offers LITERAL+) separated by spaces.
 * {@link #lenient()} is the most lenient legacy server: CR alone also ends a line, a NUL ends what it reads of one, any
 * whitespace separates, a command that starts with LOGIN or AUTHENTICATE is that command, and braces with digits at
 * the end of a line are a literal wherever they stand (inside quotes too, with or without "+" or "-"), though it offers
 * no LITERAL+.
 */
public final class ImapServer implements ReferenceServer {

    private static final Set<String> MECHANISMS = Set.of("PLAIN", "LOGIN", "CRAM-MD5");
    private static final Pattern STRICT_LITERAL = Pattern.compile("\\{(\\d{1,18})(\\+?)\\}$");
    private static final Pattern LOOSE_LITERAL = Pattern.compile("~?\\{(\\d{1,18})([+-]?)\\}$");

    private final String name;
    private final boolean lenient;
    private final LineReader in;
    private final List<Login> logins = new ArrayList<>();
    private final List<String> commands = new ArrayList<>();
    private boolean closed;

    private enum State {
        COMMAND,
        LITERAL,
        CONTINUATION,
        SASL
    }

    private State state = State.COMMAND;
    private String tag;
    private String command;
    private final List<String> args = new ArrayList<>();
    private long literal;
    private String mechanism;
    private int saslStep;

    private ImapServer(String name, boolean lenient) {
        this.name = name;
        this.lenient = lenient;
        this.in = new LineReader(lenient ? LineReader.Rules.lenient(0) : LineReader.Rules.lfOnly(0));
    }

    public static ImapServer dovecot() {
        return new ImapServer("dovecot-imap", false);
    }

    public static ImapServer lenient() {
        return new ImapServer("lenient-imap", true);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String greeting() {
        return lenient
                ? "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5] Model ready.\r\n"
                : "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN "
                        + "AUTH=CRAM-MD5] Model ready.\r\n";
    }

    @Override
    public String receive(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        in.add(bytes);
        while (!closed) {
            if (state == State.LITERAL) {
                byte[] data = in.take(literal);
                if (data == null) {
                    break;
                }
                args.add(new String(data, StandardCharsets.ISO_8859_1));
                state = State.CONTINUATION;
                continue;
            }
            String line = in.line();
            if (line == null) {
                break;
            }
            switch (state) {
                case SASL -> out.append(response(line));
                case CONTINUATION -> out.append(arguments(line));
                default -> out.append(command(line));
            }
        }
        return out.toString();
    }

    private String command(String line) {
        args.clear();
        String rest;
        if (lenient) {
            String trimmed = line.stripLeading();
            String[] words = trimmed.split("[ \\t\\x0b\\x0c]+", 3);
            tag = words[0];
            String name = words.length > 1 ? words[1].toUpperCase(Locale.ROOT) : "";
            command = name.startsWith("LOGIN") ? "LOGIN" : name.startsWith("AUTHENTICATE") ? "AUTHENTICATE" : name;
            rest = words.length > 2 ? words[2] : "";
        } else {
            int space = line.indexOf(' ');
            tag = space < 0 ? line : line.substring(0, space);
            if (tag.isEmpty() || !tag.chars().allMatch(ImapServer::tagChar)) {
                return "* BAD Error in IMAP command received by server.\r\n";
            }
            String after = space < 0 ? "" : line.substring(space + 1);
            int end = after.indexOf(' ');
            command = (end < 0 ? after : after.substring(0, end)).toUpperCase(Locale.ROOT);
            rest = end < 0 ? "" : after.substring(end + 1);
            if (command.isEmpty()) {
                return tag + " BAD Error in IMAP command received by server.\r\n";
            }
        }
        return arguments(rest);
    }

    private static boolean tagChar(int c) {
        return c > 0x20 && c < 0x7f && "(){%*\"\\]+".indexOf(c) < 0;
    }

    /** Reads arguments up to the end of the line, or to the literal it announces. */
    private String arguments(String text) {
        Matcher literalAtEnd = (lenient ? LOOSE_LITERAL : STRICT_LITERAL).matcher(text);
        boolean hasLiteral = literalAtEnd.find();
        String before = hasLiteral ? text.substring(0, literalAtEnd.start()) : text;
        if (!lenient) {
            if (hasLiteral && !(before.isEmpty() || before.endsWith(" ") || before.endsWith("("))) {
                return finish(tag + " BAD Error in IMAP command received by server.\r\n");
            }
            List<String> parsed = dovecotArguments(before);
            if (parsed == null) {
                return finish(tag + " BAD Error in IMAP command received by server.\r\n");
            }
            args.addAll(parsed);
        } else {
            args.addAll(SmtpServer.words(before));
        }
        if (hasLiteral) {
            literal = Long.parseLong(literalAtEnd.group(1));
            state = State.LITERAL;
            return literalAtEnd.group(2).isEmpty() ? "+ OK\r\n" : "";
        }
        return execute();
    }

    /** Atoms and quoted strings separated by spaces; null on a syntax error (an unterminated quote, a tab). */
    private static List<String> dovecotArguments(String text) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == ' ' || c == '(' || c == ')') {
                i++;
            } else if (c == '"') {
                StringBuilder value = new StringBuilder();
                int j = i + 1;
                boolean closed = false;
                while (j < text.length()) {
                    char q = text.charAt(j);
                    if (q == '\\' && j + 1 < text.length()) {
                        value.append(text.charAt(j + 1));
                        j += 2;
                    } else if (q == '"') {
                        closed = true;
                        j++;
                        break;
                    } else {
                        value.append(q);
                        j++;
                    }
                }
                if (!closed) {
                    return null;
                }
                out.add(value.toString());
                i = j;
            } else if (c < 0x20 || c == 0x7f || c == '{') {
                return null;
            } else {
                int j = i;
                while (j < text.length() && " ()\"".indexOf(text.charAt(j)) < 0) {
                    j++;
                }
                out.add(text.substring(i, j));
                i = j;
            }
        }
        return out;
    }

    private String execute() {
        state = State.COMMAND;
        commands.add(command + (args.isEmpty() ? "" : " " + String.join(" ", args)));
        return switch (command) {
            case "CAPABILITY" -> "* CAPABILITY " + greeting().substring(17, greeting().indexOf(']')) + "\r\n"
                    + tag + " OK Pre-login capabilities listed, post-login capabilities have more.\r\n";
            case "NOOP", "ID", "ENABLE" -> tag + " OK " + command + " completed.\r\n";
            case "LOGOUT" -> {
                closed = true;
                yield "* BYE Logging out\r\n" + tag + " OK Logout completed.\r\n";
            }
            case "LOGIN" -> {
                if (args.size() < 2) {
                    yield tag + " BAD Missing arguments.\r\n";
                }
                logins.add(new Login("LOGIN", "", true));
                yield tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n";
            }
            case "AUTHENTICATE" -> authenticate();
            default -> tag + " BAD Error in IMAP command received by server.\r\n";
        };
    }

    private String authenticate() {
        if (args.isEmpty()) {
            return tag + " BAD Missing arguments.\r\n";
        }
        String mech = args.get(0).toUpperCase(Locale.ROOT);
        if (!MECHANISMS.contains(mech)) {
            return tag + " NO Unsupported authentication mechanism.\r\n";
        }
        mechanism = mech;
        saslStep = 0;
        state = State.SASL;
        if (args.size() > 1) {
            return response(args.get(1));
        }
        return mech.equals("LOGIN") ? "+ VXNlcm5hbWU6\r\n" : "+ \r\n";
    }

    private String response(String line) {
        if (line.trim().equals("*")) {
            return finish(tag + " BAD Authentication aborted by client.\r\n");
        }
        if (mechanism.equals("LOGIN") && saslStep == 0) {
            saslStep = 1;
            return "+ UGFzc3dvcmQ6\r\n";
        }
        logins.add(new Login("AUTHENTICATE", mechanism, !mechanism.equals("CRAM-MD5")));
        return finish(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
    }

    private String finish(String reply) {
        state = State.COMMAND;
        args.clear();
        return reply;
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
