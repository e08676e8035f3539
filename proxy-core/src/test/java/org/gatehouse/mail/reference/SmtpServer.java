package org.gatehouse.mail.reference;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How an SMTP server reads a session. {@link #postfix()} reads as Postfix 3.7's smtpd does with its defaults and SASL
 * through Dovecot (checked against the real one by {@code interop/models.sh}):
 *
 * <ul>
 *   <li>LF ends a line and every CR before it is dropped (so a bare LF is a line end, and ".\r\r\n" ends a message);
 *       a command line is read to 2048 octets, the rest skipped; a NUL ends what it reads of a command (C strings),
 *       though not of a message line;
 *   <li>a command line that is not UTF-8 is answered 500 and not run;
 *   <li>words as its smtpd_token() makes them: split at whitespace, "&lt;...&gt;" and quoted strings part of a word,
 *       "FROM:" and "TO:" words of their own; the verb in any case;
 *   <li>an unknown verb is 500, but one that looks like a header ("Subject:"), starts with no letter, or is CONNECT,
 *       GET or POST ends the session (smtpd_forbidden_commands);
 *   <li>the transaction: MAIL needs FROM: and an address (and known parameters), RCPT a MAIL, TO: and an address,
 *       DATA and BDAT an accepted RCPT (otherwise DATA is refused and what follows is read as commands; a refused
 *       BDAT still reads its chunk, and any BDAT after it until LAST or RSET); AUTH is refused inside a transaction;
 *       EHLO, HELO and RSET start over; a message ends at a line holding only ".";
 *   <li>AUTH takes one mechanism of PLAIN, LOGIN, CRAM-MD5 and at most one initial response; a response that is not
 *       base64 (or "*", which cancels) fails without reaching Dovecot; PIPELINING and CHUNKING are offered;
 *   <li>20 errors end the session.
 * </ul>
 *
 * {@link #lenient()} is the most lenient legacy server: CR alone also ends a line, a NUL ends what it reads of one,
 * commands are read in 512-octet pieces, the verb is its first four letters, and neither PIPELINING nor CHUNKING is
 * offered, so it reads a BDAT chunk as commands.
 */
public final class SmtpServer extends ModelServer {

    private static final Set<String> MECHANISMS = Set.of("PLAIN", "LOGIN", "CRAM-MD5");
    private static final int LINE_LIMIT = 2048;
    private static final int HARD_ERROR_LIMIT = 20;
    private static final int JUNK_COMMAND_LIMIT = 100;
    private static final long MESSAGE_SIZE_LIMIT = 10240000;

    private int messages;

    private enum State {
        COMMANDS,
        MESSAGE,
        CHUNK,
        SASL
    }

    private State state = State.COMMANDS;
    private long chunk;
    private boolean lastChunk;
    private String mechanism;
    private int saslStep;

    // Postfix's transaction and its counters.
    private boolean mail;
    private int recipients;
    private enum Bdat {
        NONE,
        OK,
        ERROR
    }
    private Bdat bdat = Bdat.NONE;
    /** The chunk being read is skipped, and this is the reply once it is. */
    private String skipReply;
    private long messageSize;
    private int errors;
    private int junk;

    private SmtpServer(String name, boolean lenient) {
        super(name, lenient, lenient ? LineReader.Rules.lenient(512) : LineReader.Rules.postfix(LINE_LIMIT));
    }

    public static SmtpServer postfix() {
        return new SmtpServer("postfix", false);
    }

    public static SmtpServer lenient() {
        return new SmtpServer("lenient-smtp", true);
    }

    @Override
    public String greeting() {
        return "220 model.example ESMTP\r\n";
    }

    @Override
    public String receive(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        in.add(bytes);
        while (!closed) {
            if (!lenient && state == State.COMMANDS && errors >= HARD_ERROR_LIMIT) {
                closed = true;
                out.append("421 4.7.0 model.example Error: too many errors\r\n");
                break;
            }
            if (state == State.CHUNK) {
                byte[] data = in.take(chunk);
                if (data == null) {
                    break;
                }
                state = State.COMMANDS;
                out.append(lenient ? chunkTaken() : postfixChunk());
                continue;
            }
            String line = in.line();
            if (line == null) {
                break;
            }
            switch (state) {
                case MESSAGE -> {
                    if (line.equals(".")) {
                        messages++;
                        state = State.COMMANDS;
                        resetTransaction();
                        junk = 0;
                        out.append("250 2.0.0 Ok: queued as 1A2B3C4D\r\n");
                    }
                }
                case SASL -> {
                    String reply = response(line);
                    if (reply.startsWith("5")) {
                        errors++;
                    }
                    out.append(reply);
                }
                default -> out.append(lenient ? command(line) : postfixCommand(line));
            }
        }
        return out.toString();
    }

    // ---- Postfix ----------------------------------------------------------------------------------------------

    private String postfixCommand(String raw) {
        String line = raw.indexOf('\0') < 0 ? raw : raw.substring(0, raw.indexOf('\0'));
        List<String> read = words(line);
        commands.add(read.isEmpty()
                ? ""
                : ascii(read.get(0)).concat(
                        read.size() > 1 ? " " + String.join(" ", read.subList(1, read.size())) : ""));
        String reply = postfixReply(raw, line);
        if (reply.startsWith("4") || reply.startsWith("5")) {
            errors++;
        }
        return reply;
    }

    private String postfixReply(String raw, String line) {
        if (!utf8(raw)) {
            return "500 5.5.2 Error: bad UTF-8 syntax\r\n";
        }
        List<Token> args = tokens(line);
        if (args.isEmpty()) {
            return "500 5.5.2 Error: bad syntax\r\n";
        }
        String verb = ascii(args.get(0).text());
        int argc = args.size();
        switch (verb) {
            case "EHLO", "HELO" -> {
                if (argc < 2) {
                    return "501 Syntax: " + verb + " hostname\r\n";
                }
                resetTransaction();
                return verb.equals("HELO")
                        ? "250 model.example\r\n"
                        : "250-model.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
                                + "250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n"
                                + "250-SMTPUTF8\r\n250 CHUNKING\r\n";
            }
            case "MAIL" -> {
                return mailFrom(args);
            }
            case "RCPT" -> {
                return rcptTo(args);
            }
            case "DATA" -> {
                if (bdat != Bdat.NONE) {
                    return "503 5.5.1 Error: DATA after BDAT\r\n";
                }
                if (recipients == 0) {
                    return mail ? "554 5.5.1 Error: no valid recipients\r\n" : "503 5.5.1 Error: need RCPT command\r\n";
                }
                if (argc != 1) {
                    return "501 5.5.4 Syntax: DATA\r\n";
                }
                state = State.MESSAGE;
                return "354 End data with <CR><LF>.<CR><LF>\r\n";
            }
            case "BDAT" -> {
                return bdat(args);
            }
            case "AUTH" -> {
                if (mail) {
                    return "503 5.5.1 Error: MAIL transaction in progress\r\n";
                }
                if (argc < 2 || argc > 3) {
                    return "501 5.5.4 Syntax: AUTH mechanism\r\n";
                }
                return auth(args.subList(1, argc).stream().map(Token::text).toList());
            }
            case "RSET", "NOOP", "VRFY", "ETRN" -> {
                String reply = junkCommand(verb, args);
                if (junk++ > JUNK_COMMAND_LIMIT) {
                    errors++;
                }
                return reply;
            }
            case "STARTTLS" -> {
                return argc != 1 ? "501 5.5.4 Syntax: STARTTLS\r\n" : "502 5.5.1 Error: command not implemented\r\n";
            }
            case "XCLIENT", "XFORWARD" -> {
                return "550 5.7.0 Error: insufficient authorization\r\n";
            }
            case "QUIT" -> {
                closed = true;
                return "221 2.0.0 Bye\r\n";
            }
            default -> {
                String first = args.get(0).text();
                char c = first.charAt(0);
                if (header(first) || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
                        || Set.of("CONNECT", "GET", "POST").contains(verb)) {
                    closed = true;
                    return "221 2.7.0 Error: I can break rules, too. Goodbye.\r\n";
                }
                return "500 5.5.2 Error: command not recognized\r\n";
            }
        }
    }

    private String mailFrom(List<Token> args) {
        if (mail) {
            return "503 5.5.1 Error: nested MAIL command\r\n";
        }
        if (bdat != Bdat.NONE) {
            return "503 5.5.1 Error: MAIL after BDAT\r\n";
        }
        if (args.size() < 3 || !ascii(args.get(1).text()).equals("FROM:")) {
            return "501 5.5.4 Syntax: MAIL FROM:<address>\r\n";
        }
        if (args.get(2).unclosed()) {
            return "501 5.1.7 Bad sender address syntax\r\n";
        }
        for (Token param : args.subList(3, args.size())) {
            String p = ascii(param.text());
            if (p.startsWith("SIZE=") && !p.substring(5).matches("\\d+")) {
                return "501 5.5.4 Bad message size syntax\r\n";
            }
            if (p.startsWith("RET=") && !p.equals("RET=FULL") && !p.equals("RET=HDRS")) {
                return "501 5.5.4 Bad RET parameter syntax\r\n";
            }
            if (!(p.equals("BODY=8BITMIME") || p.equals("BODY=7BIT") || p.startsWith("SIZE=") || p.equals("SMTPUTF8")
                    || p.startsWith("AUTH=") || p.startsWith("RET=") || p.startsWith("ENVID="))) {
                return "555 5.5.4 Unsupported option: " + param.text() + "\r\n";
            }
        }
        mail = true;
        return "250 2.1.0 Ok\r\n";
    }

    private String rcptTo(List<Token> args) {
        if (!mail) {
            return "503 5.5.1 Error: need MAIL command\r\n";
        }
        if (bdat != Bdat.NONE) {
            return "503 5.5.1 Error: RCPT after BDAT\r\n";
        }
        if (args.size() < 3 || !ascii(args.get(1).text()).equals("TO:")) {
            return "501 5.5.4 Syntax: RCPT TO:<address>\r\n";
        }
        if (args.get(2).unclosed() || args.get(2).text().equals("<>")) {
            return "501 5.1.3 Bad recipient address syntax\r\n";
        }
        for (Token param : args.subList(3, args.size())) {
            String p = ascii(param.text());
            if (!(p.startsWith("NOTIFY=") || p.startsWith("ORCPT="))) {
                return "555 5.5.4 Unsupported option: " + param.text() + "\r\n";
            }
        }
        recipients++;
        return "250 2.1.5 Ok\r\n";
    }

    private String bdat(List<Token> args) {
        long size;
        try {
            size = args.size() >= 2 && args.get(1).text().matches("\\d+") ? Long.parseLong(args.get(1).text()) : -1;
        } catch (NumberFormatException e) {
            size = -1;
        }
        boolean last = args.size() == 3;
        if (args.size() > 3 || size < 0 || (last && !ascii(args.get(2).text()).equals("LAST"))) {
            return "521 5.5.4 Syntax: BDAT count [LAST]\r\n"; // and the chunk is read as commands
        }
        chunk = size;
        lastChunk = last;
        state = State.CHUNK;
        skipReply = null;
        if (size == 0 && !last) {
            skipReply = "551 5.7.1 Null BDAT request\r\n";
        } else if (bdat == Bdat.ERROR) {
            skipReply = "551 5.0.0 Discarded " + size + " bytes after earlier error\r\n";
        } else if (bdat == Bdat.NONE && recipients == 0) {
            skipReply = mail ? "554 5.5.1 Error: no valid recipients\r\n" : "503 5.5.1 Error: need RCPT command\r\n";
        } else if (messageSize > MESSAGE_SIZE_LIMIT - size) {
            skipReply = "552 5.3.4 Chunk exceeds message size limit\r\n";
        }
        return "";
    }

    /** After a BDAT chunk is read: taken into the message, or skipped with the reason. */
    private String postfixChunk() {
        String reply;
        if (skipReply != null) {
            reply = skipReply;
            errors++;
            if (lastChunk) {
                resetTransaction();
            } else {
                bdat = Bdat.ERROR;
            }
        } else if (lastChunk) {
            messages++;
            reply = "250 2.0.0 Ok: " + (messageSize + chunk) + " bytes queued as 1A2B3C4D\r\n";
            resetTransaction();
            junk = 0;
        } else {
            bdat = Bdat.OK;
            messageSize += chunk;
            reply = "250 2.0.0 Ok: " + chunk + " bytes\r\n";
        }
        return reply;
    }

    private String junkCommand(String verb, List<Token> args) {
        return switch (verb) {
            case "RSET" -> {
                if (args.size() != 1) {
                    yield "501 5.5.4 Syntax: RSET\r\n";
                }
                resetTransaction();
                yield "250 2.0.0 Ok\r\n";
            }
            case "NOOP" -> "250 2.0.0 Ok\r\n"; // arguments ignored (RFC 2821)
            case "VRFY" -> args.size() < 2
                    ? "501 5.5.4 Syntax: VRFY address\r\n"
                    : "252 2.0.0 " + args.get(1).text() + "\r\n";
            default -> mail
                    ? "503 Error: MAIL transaction in progress\r\n"
                    : args.size() != 2
                            ? "500 Syntax: ETRN domain\r\n"
                            : "459 4.3.0 <" + args.get(1).text() + ">: service unavailable\r\n";
        };
    }

    private void resetTransaction() {
        mail = false;
        recipients = 0;
        bdat = Bdat.NONE;
        messageSize = 0;
    }

    /** A word of a command line as Postfix's smtpd_token() reads it; unclosed: a "&lt;" or a quote never closed. */
    record Token(String text, boolean unclosed) {
    }

    static List<Token> tokens(String line) {
        List<Token> tokens = new ArrayList<>();
        int i = 0;
        int n = line.length();
        while (true) {
            StringBuilder word = new StringBuilder();
            boolean unclosed = false;
            while (i < n) {
                char c = line.charAt(i++);
                if (space(c)) {
                    while (i < n && space(line.charAt(i))) {
                        i++;
                    }
                    if (word.length() > 0) {
                        break;
                    }
                } else if (c == '<' || c == '"') {
                    // smtp_quoted(): to the matching '>' or '"', quotes inside brackets nest, '\' escapes
                    word.append(c);
                    StringBuilder wanted = new StringBuilder().append(c == '<' ? '>' : '"');
                    boolean done = false;
                    while (i < n) {
                        char q = line.charAt(i++);
                        word.append(q);
                        char top = wanted.charAt(wanted.length() - 1);
                        if (q == '\\') {
                            if (i >= n) {
                                break;
                            }
                            word.append(line.charAt(i++));
                        } else if (q == top) {
                            wanted.setLength(wanted.length() - 1);
                            if (wanted.length() == 0) {
                                done = true;
                                break;
                            }
                        } else if (q == '"') {
                            wanted.append('"');
                        } else if (q == '<' && top == '>') {
                            wanted.append('>');
                        }
                    }
                    unclosed |= !done;
                } else if (c == ':') {
                    word.append(c);
                    if (ascii(word.toString()).equals("TO:") || ascii(word.toString()).equals("FROM:")) {
                        break;
                    }
                } else {
                    if (c == '\\') {
                        word.append(c);
                        if (i >= n) {
                            break;
                        }
                        c = line.charAt(i++);
                    }
                    word.append(c);
                }
            }
            if (word.length() == 0) {
                return tokens;
            }
            tokens.add(new Token(word.toString(), unclosed));
        }
    }

    private static boolean space(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    /** Postfix's is_header(): printable ASCII, optionally followed by spaces or tabs, then a colon. */
    private static boolean header(String word) {
        boolean label = false;
        boolean spaces = false;
        for (char c : word.toCharArray()) {
            if (c == ':') {
                return label;
            } else if (c == ' ' || c == '\t') {
                spaces = label;
                if (!label) {
                    return false;
                }
            } else if (c == 0 || c >= 0x7f || c < 0x20 || spaces) {
                return false;
            } else {
                label = true;
            }
        }
        return false;
    }

    private static boolean utf8(String latin1) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(latin1.getBytes(StandardCharsets.ISO_8859_1)));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** Upper case as C's toupper() in the C locale: ASCII letters only. */
    static String ascii(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            b.append(c >= 'a' && c <= 'z' ? (char) (c - 32) : c);
        }
        return b.toString();
    }

    /** Postfix and Dovecot take a SASL response only in the base64 alphabet (and "="); anything else fails it. */
    static boolean base64(String s) {
        return s.chars().allMatch(c -> (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                || c == '+' || c == '/' || c == '=');
    }

    // ---- the lenient legacy server, and what both share --------------------------------------------------------

    private String chunkTaken() {
        if (lastChunk) {
            messages++;
        }
        return "250 2.0.0 chunk of " + chunk + " octets taken\r\n";
    }

    private String command(String line) {
        List<String> words = words(line);
        if (words.isEmpty()) {
            return "500 5.5.2 Error: bad syntax\r\n";
        }
        String first = words.get(0).toUpperCase(Locale.ROOT);
        String verb = first.length() > 4 ? first.substring(0, 4) : first;
        List<String> args = new ArrayList<>(words.subList(1, words.size()));
        if (first.length() > 4) {
            // "AUTH=PLAIN": what follows the four letters, past punctuation, is the first argument.
            String rest = words.get(0).substring(4).replaceFirst("^[=:,;.]+", "");
            if (!rest.isEmpty()) {
                args.add(0, rest);
            }
        }
        commands.add(verb + (args.isEmpty() ? "" : " " + String.join(" ", args)));
        return switch (verb) {
            case "EHLO" -> "250-model.example\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 8BITMIME\r\n";
            case "HELO", "MAIL", "RCPT", "RSET", "NOOP", "VRFY" -> "250 2.0.0 Ok\r\n";
            case "QUIT" -> {
                closed = true;
                yield "221 2.0.0 Bye\r\n";
            }
            case "DATA" -> {
                state = State.MESSAGE;
                yield "354 End data with <CR><LF>.<CR><LF>\r\n";
            }
            case "BDAT" -> "502 5.5.2 Error: command not recognized\r\n";
            case "AUTH" -> args.isEmpty() ? "501 5.5.4 Syntax: AUTH mechanism\r\n" : auth(args);
            case "STARTTLS" -> "454 4.7.0 TLS not available\r\n";
            default -> "502 5.5.2 Error: command not recognized\r\n";
        };
    }

    private String auth(List<String> args) {
        String mech = args.get(0).toUpperCase(Locale.ROOT);
        if (!MECHANISMS.contains(lenient ? mech : ascii(args.get(0)))) {
            return "535 5.7.8 Error: authentication failed: Invalid authentication mechanism\r\n";
        }
        mechanism = lenient ? mech : ascii(args.get(0));
        saslStep = 0;
        if (args.size() > 1) {
            if (!lenient && !base64(args.get(1))) {
                return "535 5.7.8 Error: authentication failed: Invalid base64 data in initial response\r\n";
            }
            state = State.SASL;
            return response(args.get(1));
        }
        state = State.SASL;
        return switch (mechanism) {
            case "LOGIN" -> "334 VXNlcm5hbWU6\r\n";
            case "PLAIN" -> lenient ? "334 PDEyMzQ1QG1vZGVsPg==\r\n" : "334 \r\n";
            default -> "334 PDEyMzQ1QG1vZGVsPg==\r\n";
        };
    }

    private String response(String raw) {
        String line = lenient || raw.indexOf('\0') < 0 ? raw : raw.substring(0, raw.indexOf('\0'));
        if (lenient ? line.trim().equals("*") : line.equals("*")) {
            state = State.COMMANDS;
            return "501 5.7.0 Authentication aborted\r\n";
        }
        if (!lenient && !base64(line)) {
            state = State.COMMANDS;
            return "535 5.7.8 Error: authentication failed: Invalid base64 data in continued response\r\n";
        }
        if (mechanism.equals("LOGIN") && saslStep == 0) {
            saslStep = 1;
            return "334 UGFzc3dvcmQ6\r\n";
        }
        logins.add(new Login("AUTH", mechanism, !mechanism.equals("CRAM-MD5")));
        state = State.COMMANDS;
        return "535 5.7.8 Error: authentication failed: " + user(line) + "\r\n";
    }

    private static String user(String line) {
        try {
            return Base64.getDecoder().decode(line.trim()).length + " octets";
        } catch (IllegalArgumentException e) {
            return "not base64";
        }
    }

    /** Whitespace-separated words, as Postfix's tokenizer and a C scanf read them. */
    static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        for (String w : line.split("[ \\t\\x0b\\x0c\\r]+")) {
            if (!w.isEmpty()) {
                words.add(w);
            }
        }
        return words;
    }

    @Override
    public int messages() {
        return messages;
    }
}
