package org.gatehouse.mail.reference;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How an IMAP server reads the not-authenticated state. {@link #dovecot()} reads as Dovecot 2.3's imap-login (Debian's
 * 2.3.19.1 with its security fixes, plaintext allowed, no TLS; checked against the real one by
 * {@code interop/models.sh}), after its imap-parser:
 *
 * <ul>
 *   <li>LF ends a line (a CR before it dropped); the tag, then the command name, each end at a space or a CR, and
 *       must be atoms (the tag without "+"); a CR anywhere else on the line is an error ("CR sent without LF");
 *   <li>arguments are atoms (no 8-bit octets, controls, "(", "{", or a quote inside), quoted strings, at most one
 *       parenthesised list, and literals: "{n}" or "{n+}" ("+ OK" sent for the first) that must end the line, which is
 *       read on after the literal's octets; an error anywhere in a line rejects it before any literal after the error,
 *       whose octets are then read as commands;
 *   <li>AUTHENTICATE is read apart: the mechanism to a space or CR, the rest of the line as the initial response
 *       (never a literal); a later response must be base64 (or "*", which cancels); LOGIN needs exactly two strings;
 *   <li>the third invalid command (bad tag or name, unknown command, LOGIN's arguments wrong) ends the session, and
 *       so does an argument or literal that outgrows its 1026-octet input buffer.
 * </ul>
 *
 * {@link #lenient()} is the most lenient legacy server: CR alone also ends a line, a NUL ends what it reads of one,
 * any whitespace separates, a command that starts with LOGIN or AUTHENTICATE is that command, and braces with digits at
 * the end of a line are a literal wherever they stand (inside quotes too, with or without "+" or "-"), though it offers
 * no LITERAL+.
 */
public final class ImapServer extends ModelServer {

    private static final Set<String> MECHANISMS = Set.of("PLAIN", "LOGIN", "CRAM-MD5");
    private static final Pattern LOOSE_LITERAL = Pattern.compile("~?\\{(\\d{1,18})([+-]?)\\}$");
    private static final Set<String> COMMANDS = Set.of("LOGIN", "AUTHENTICATE", "CAPABILITY", "STARTTLS", "NOOP",
            "LOGOUT", "ENABLE", "ID");
    private static final int TAG_MAX = 126;
    private static final int INPUT_BUFFER = 1026;
    private static final int AUTH_BUFFER = 8192;
    private static final int MAX_LINE = 8192;
    private static final int MAX_BAD_COMMANDS = 3;

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

    // Dovecot's parser, for the command being read: the parenthesised list, the octets of the line so far.
    private int listDepth;
    private int listCount;
    private boolean listArgument;
    private long lineSize;
    private int badCommands;

    private ImapServer(String name, boolean lenient) {
        super(name, lenient, lenient ? LineReader.Rules.lenient(0) : LineReader.Rules.lfOnly(0));
    }

    public static ImapServer dovecot() {
        return new ImapServer("dovecot-imap", false);
    }

    public static ImapServer lenient() {
        return new ImapServer("lenient-imap", true);
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
                    if (!lenient && in.available() > INPUT_BUFFER) {
                        out.append(bye("Input buffer full, aborting"));
                    }
                    break;
                }
                args.add(new String(data, StandardCharsets.ISO_8859_1));
                lineSize += literal;
                state = State.CONTINUATION;
                continue;
            }
            String line = in.line();
            if (line == null) {
                if (!lenient) {
                    out.append(overflow(in.unread()));
                }
                break;
            }
            switch (state) {
                case SASL -> out.append(response(line));
                case CONTINUATION -> out.append(lenient ? arguments(line) : dovecotArguments(line, true));
                default -> out.append(lenient ? command(line) : dovecotCommand(line));
            }
        }
        return out.toString();
    }

    // ---- Dovecot --------------------------------------------------------------------------------------------------

    private String dovecotCommand(String line) {
        args.clear();
        listDepth = 0;
        listCount = 0;
        listArgument = false;
        tag = null;
        int end = atomEnd(line, 0, true);
        if (end <= 0 || end > TAG_MAX) {
            return invalid(); // the tag is not shown back: "* BAD"
        }
        tag = line.substring(0, end);
        int at = end < line.length() && line.charAt(end) == ' ' ? end + 1 : end;
        int nameEnd = atomEnd(line, at, false);
        if (nameEnd <= at) {
            return invalid();
        }
        command = SmtpServer.ascii(line.substring(at, nameEnd));
        String rest = line.substring(nameEnd < line.length() && line.charAt(nameEnd) == ' ' ? nameEnd + 1 : nameEnd);
        lineSize = line.length() - rest.length();
        if (command.equals("AUTHENTICATE")) {
            return dovecotAuthenticate(rest);
        }
        return dovecotArguments(rest, true);
    }

    /** Where an atom that starts at {@code from} ends (a space, CR or the line's end), or -1 at an octet it refuses. */
    private static int atomEnd(String line, int from, boolean isTag) {
        for (int i = from; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == ' ' || c == '\r') {
                return i;
            }
            if ("(){%*\"\\]".indexOf(c) >= 0 || (isTag && c == '+') || c < 0x20 || c >= 0x80) {
                return -1;
            }
        }
        return line.length();
    }

    /** The third invalid command ends the session; before it, BAD (with the tag when there is a valid one). */
    private String invalid() {
        state = State.COMMAND;
        if (++badCommands >= MAX_BAD_COMMANDS) {
            return bye("Too many invalid IMAP commands.");
        }
        return (tag == null ? "*" : tag) + " BAD Error in IMAP command received by server.\r\n";
    }

    private String bye(String text) {
        closed = true;
        return "* BYE " + text + "\r\n";
    }

    /** A parse error: BAD with Dovecot's reason, the rest of the line skipped; not counted as an invalid command. */
    private String syntax(String reason) {
        state = State.COMMAND;
        return tag + " BAD " + reason + "\r\n";
    }

    /**
     * Reads arguments from {@code text} (a line, or what follows a literal on its line) as Dovecot's imap-parser; when
     * the line is not {@code complete} yet, returns null where the parser would wait for more.
     */
    private String dovecotArguments(String text, boolean complete) {
        int i = 0;
        int n = text.length();
        lineSize += n + 2;
        while (true) {
            while (i < n && text.charAt(i) == ' ') {
                i++;
            }
            if (i == n) {
                return !complete ? null : listDepth > 0 ? syntax("Missing ')'") : dovecotExecute();
            }
            char c = text.charAt(i);
            if (c == '\r') {
                return syntax("CR sent without LF");
            } else if (c == '"') {
                StringBuilder value = new StringBuilder();
                int j = i + 1;
                while (true) {
                    if (j >= n) {
                        return complete ? syntax("Missing '\"'") : null;
                    }
                    char q = text.charAt(j);
                    if (q == '"') {
                        break;
                    }
                    if (q == '\0') {
                        return syntax("NULs not allowed in strings");
                    }
                    if (q == '\\') {
                        if (++j >= n) {
                            return complete ? syntax("Missing '\"'") : null;
                        }
                        q = text.charAt(j);
                    }
                    if (q == '\r') {
                        return syntax("Missing '\"'");
                    }
                    value.append(q);
                    j++;
                }
                add(value.toString());
                i = j + 1;
            } else if (c == '~' && i + 1 < n && text.charAt(i + 1) == '{') {
                return syntax("literal8 not allowed here");
            } else if (c == '{') {
                long size = 0;
                boolean nonSync = false;
                int j = i + 1;
                while (true) {
                    if (j >= n) {
                        return complete ? syntax("Invalid literal size") : null;
                    }
                    char d = text.charAt(j);
                    if (d == '}') {
                        break;
                    }
                    if (nonSync) {
                        return syntax("Expecting '}' after '+'");
                    }
                    if (d == '+') {
                        nonSync = true;
                    } else if (d < '0' || d > '9') {
                        return syntax("Invalid literal size");
                    } else if (size > (Long.MAX_VALUE - 9) / 10) {
                        return bye("Literal size too large");
                    } else {
                        size = size * 10 + (d - '0');
                    }
                    j++;
                }
                if (size > MAX_LINE - lineSize + (n - j - 1) + 2) {
                    return bye("Literal size too large");
                }
                String goAhead = nonSync ? "" : "+ OK\r\n";
                if (j + 1 < n) {
                    return goAhead + syntax("Missing LF after literal size");
                }
                if (!complete) {
                    return null;
                }
                literal = size;
                state = State.LITERAL;
                return goAhead;
            } else if (c == '(') {
                if (listCount >= 1) {
                    return syntax("Too many '('");
                }
                listCount++;
                listDepth++;
                listArgument = listArgument || listDepth == 1;
                i++;
            } else if (c == ')') {
                if (listDepth == 0) {
                    return syntax("Unexpected ')'");
                }
                listDepth--;
                i++;
            } else {
                int j = i;
                while (j < n && text.charAt(j) != ' ' && text.charAt(j) != '\r') {
                    char a = text.charAt(j);
                    if (a == ')' && listDepth > 0) {
                        break;
                    }
                    if (a == ')') {
                        return syntax("Unexpected ')'");
                    }
                    if (a == '(' || a == '{' || a == '"' || a < 0x20 || a == 0x7f) {
                        return syntax("Invalid characters in atom");
                    }
                    if (a >= 0x80) {
                        return syntax("8bit data in atom");
                    }
                    j++;
                }
                if (j == n && !complete) {
                    return null;
                }
                add(text.substring(i, j));
                i = j;
            }
        }
    }

    /** An argument, at the top level or inside the list (which LOGIN cannot take). */
    private void add(String value) {
        if (listDepth == 0) {
            args.add(value);
        }
    }

    private String dovecotExecute() {
        state = State.COMMAND;
        commands.add(command + (args.isEmpty() ? "" : " " + String.join(" ", args)));
        if (!COMMANDS.contains(command)) {
            if (tag.equalsIgnoreCase("LOGIN")) {
                return tag + " BAD First parameter in line is IMAP's command tag, not the command name. Add that "
                        + "before the command, like: a login user pass\r\n";
            }
            return invalid();
        }
        return switch (command) {
            case "LOGIN" -> {
                if (args.size() != 2 || listArgument) {
                    yield invalid();
                }
                logins.add(new Login("LOGIN", "", true));
                yield tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n";
            }
            case "STARTTLS" -> tag + " BAD TLS support isn't enabled.\r\n";
            case "ENABLE" -> "* ENABLED\r\n" + tag + " OK ENABLE ignored in non-authenticated state.\r\n";
            case "ID" -> "* ID NIL\r\n" + tag + " OK ID completed.\r\n";
            default -> execute();
        };
    }

    private String dovecotAuthenticate(String rest) {
        int end = 0;
        while (end < rest.length() && rest.charAt(end) != ' ' && rest.charAt(end) != '\r') {
            end++;
        }
        commands.add("AUTHENTICATE" + (rest.isEmpty() ? "" : " " + rest));
        if (end == 0) {
            return invalid(); // no mechanism
        }
        String mech = SmtpServer.ascii(cString(rest.substring(0, end)));
        String ir = cString(rest.substring(end < rest.length() && rest.charAt(end) == ' ' ? end + 1 : end));
        if (!MECHANISMS.contains(mech)) {
            return tag + " NO [ALERT] Unsupported authentication mechanism.\r\n";
        }
        mechanism = mech;
        saslStep = 0;
        state = State.SASL;
        // The initial response goes to the authentication server: "=" is an empty one, CRAM-MD5 ignores it, LOGIN
        // takes it for the user name, anything that does not decode fails there.
        if (ir.isEmpty() || (!ir.equals("=") && SmtpServer.base64(ir) && mech.equals("CRAM-MD5"))
                || (ir.equals("=") && !mech.equals("PLAIN"))) {
            return mech.equals("LOGIN") ? "+ VXNlcm5hbWU6\r\n" : "+ \r\n";
        }
        if (mech.equals("LOGIN") && SmtpServer.base64(ir)) {
            saslStep = 1;
            return "+ UGFzc3dvcmQ6\r\n";
        }
        logins.add(new Login("AUTHENTICATE", mech, !mech.equals("CRAM-MD5")));
        return finish(SmtpServer.base64(ir)
                ? tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
                : tag + " BAD Invalid base64 data in initial response\r\n");
    }

    /** What Dovecot does with the unfinished line it holds: end the session when it outgrows its buffer. */
    private String overflow(String unread) {
        if (state == State.SASL) {
            if (unread.length() > AUTH_BUFFER) {
                closed = true;
            }
            return "";
        }
        // The tag and the command name are taken off the buffer as they end; the arguments stay until the line (or a
        // literal) ends, unless the parser already refused them and skips the rest of the line.
        String partial = unread;
        if (state == State.COMMAND) {
            int tagEnd = atomEnd(unread, 0, true);
            if (tagEnd <= 0 || tagEnd == unread.length() || unread.charAt(tagEnd) != ' ') {
                return "";
            }
            int nameEnd = atomEnd(unread, tagEnd + 1, false);
            if (nameEnd <= tagEnd + 1 || nameEnd == unread.length() || unread.charAt(nameEnd) != ' ') {
                return "";
            }
            partial = unread.substring(nameEnd + 1);
            if (SmtpServer.ascii(unread.substring(tagEnd + 1, nameEnd)).equals("AUTHENTICATE")) {
                if (partial.length() > AUTH_BUFFER) {
                    closed = true;
                }
                return "";
            }
        }
        if (partial.length() <= INPUT_BUFFER || refuses(partial)) {
            return "";
        }
        return bye("Input buffer full, aborting");
    }

    /** Whether the parser has already refused these unfinished arguments (and so skips to the end of the line). */
    private boolean refuses(String partial) {
        State savedState = state;
        List<String> savedArgs = new ArrayList<>(args);
        int depth = listDepth;
        int count = listCount;
        boolean list = listArgument;
        long size = lineSize;
        long savedLiteral = literal;
        boolean wasClosed = closed;
        String reply = dovecotArguments(partial, false);
        state = savedState;
        args.clear();
        args.addAll(savedArgs);
        listDepth = depth;
        listCount = count;
        listArgument = list;
        lineSize = size;
        literal = savedLiteral;
        closed = wasClosed;
        return reply != null;
    }

    private static String cString(String s) {
        int nul = s.indexOf('\0');
        return nul < 0 ? s : s.substring(0, nul);
    }

    // ---- the lenient legacy server, and what both share --------------------------------------------------------

    private String command(String line) {
        args.clear();
        String trimmed = line.stripLeading();
        String[] words = trimmed.split("[ \\t\\x0b\\x0c]+", 3);
        tag = words[0];
        String name = words.length > 1 ? words[1].toUpperCase(Locale.ROOT) : "";
        command = name.startsWith("LOGIN") ? "LOGIN" : name.startsWith("AUTHENTICATE") ? "AUTHENTICATE" : name;
        String rest = words.length > 2 ? words[2] : "";
        return arguments(rest);
    }

    /** Reads arguments up to the end of the line, or to the literal it announces (the lenient server). */
    private String arguments(String text) {
        Matcher literalAtEnd = LOOSE_LITERAL.matcher(text);
        boolean hasLiteral = literalAtEnd.find();
        String before = hasLiteral ? text.substring(0, literalAtEnd.start()) : text;
        args.addAll(SmtpServer.words(before));
        if (hasLiteral) {
            literal = Long.parseLong(literalAtEnd.group(1));
            state = State.LITERAL;
            return literalAtEnd.group(2).isEmpty() ? "+ OK\r\n" : "";
        }
        return execute();
    }

    private String execute() {
        state = State.COMMAND;
        if (lenient) {
            commands.add(command + (args.isEmpty() ? "" : " " + String.join(" ", args)));
        }
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

    private String response(String raw) {
        String line = lenient ? raw : cString(raw);
        if (lenient ? line.trim().equals("*") : line.equals("*")) {
            return finish(tag + " BAD Authentication aborted by client.\r\n");
        }
        if (!lenient && !SmtpServer.base64(line)) {
            return finish(tag + " NO [AUTHENTICATIONFAILED] Invalid base64 in response\r\n");
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
}
