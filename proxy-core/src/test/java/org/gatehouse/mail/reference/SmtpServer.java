package org.gatehouse.mail.reference;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How an SMTP server reads a session. {@link #postfix()} reads as Postfix 3.7 does with its defaults: LF ends a line
 * (a CR before it is dropped, so a bare LF is a line end too), words split on whitespace, verbs exact in any case,
 * PIPELINING and CHUNKING offered, a message ends at a line holding only "." however that line ended. {@link
 * #lenient()} is the most lenient legacy server: CR alone also ends a line, a NUL ends what it reads of one, commands
 * are read in 512-octet pieces, the verb is its first four letters, and neither PIPELINING nor CHUNKING is offered,
 * so it reads a BDAT chunk as commands.
 */
public final class SmtpServer implements ReferenceServer {

    private static final Set<String> MECHANISMS = Set.of("PLAIN", "LOGIN", "CRAM-MD5");

    private final String name;
    private final boolean lenient;
    private final LineReader in;
    private final List<Login> logins = new ArrayList<>();
    private final List<String> commands = new ArrayList<>();
    private int messages;
    private boolean closed;

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

    private SmtpServer(String name, boolean lenient) {
        this.name = name;
        this.lenient = lenient;
        this.in = new LineReader(lenient ? LineReader.Rules.lenient(512) : LineReader.Rules.lfOnly(2048));
    }

    public static SmtpServer postfix() {
        return new SmtpServer("postfix", false);
    }

    public static SmtpServer lenient() {
        return new SmtpServer("lenient-smtp", true);
    }

    @Override
    public String name() {
        return name;
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
            if (state == State.CHUNK) {
                byte[] data = in.take(chunk);
                if (data == null) {
                    break;
                }
                state = State.COMMANDS;
                if (lastChunk) {
                    messages++;
                }
                out.append("250 2.0.0 chunk of ").append(chunk).append(" octets taken\r\n");
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
                        out.append("250 2.0.0 Ok: queued\r\n");
                    }
                }
                case SASL -> out.append(response(line));
                default -> out.append(command(line));
            }
        }
        return out.toString();
    }

    private String command(String line) {
        List<String> words = words(line);
        if (words.isEmpty()) {
            return "500 5.5.2 Error: bad syntax\r\n";
        }
        String first = words.get(0).toUpperCase(Locale.ROOT);
        String verb = lenient && first.length() > 4 ? first.substring(0, 4) : first;
        List<String> args = new ArrayList<>(words.subList(1, words.size()));
        if (lenient && first.length() > 4) {
            // "AUTH=PLAIN": what follows the four letters, past punctuation, is the first argument.
            String rest = words.get(0).substring(4).replaceFirst("^[=:,;.]+", "");
            if (!rest.isEmpty()) {
                args.add(0, rest);
            }
        }
        commands.add(verb + (args.isEmpty() ? "" : " " + String.join(" ", args)));
        return switch (verb) {
            case "EHLO" -> lenient
                    ? "250-model.example\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 8BITMIME\r\n"
                    : "250-model.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
                            + "250-8BITMIME\r\n250 CHUNKING\r\n";
            case "HELO", "MAIL", "RCPT", "RSET", "NOOP", "VRFY" -> "250 2.0.0 Ok\r\n";
            case "QUIT" -> {
                closed = true;
                yield "221 2.0.0 Bye\r\n";
            }
            case "DATA" -> {
                state = State.MESSAGE;
                yield "354 End data with <CR><LF>.<CR><LF>\r\n";
            }
            case "BDAT" -> bdat(args);
            case "AUTH" -> auth(args);
            case "STARTTLS" -> "454 4.7.0 TLS not available\r\n";
            default -> "502 5.5.2 Error: command not recognized\r\n";
        };
    }

    private String bdat(List<String> args) {
        if (lenient) {
            return "502 5.5.2 Error: command not recognized\r\n";
        }
        if (args.isEmpty() || !args.get(0).matches("\\d{1,18}")) {
            return "501 5.5.4 Syntax: BDAT count [LAST]\r\n";
        }
        chunk = Long.parseLong(args.get(0));
        lastChunk = args.size() > 1 && args.get(1).equalsIgnoreCase("LAST");
        state = State.CHUNK;
        return "";
    }

    private String auth(List<String> args) {
        if (args.isEmpty()) {
            return "501 5.5.4 Syntax: AUTH mechanism\r\n";
        }
        String mech = args.get(0).toUpperCase(Locale.ROOT);
        if (!MECHANISMS.contains(mech)) {
            return "535 5.7.8 Error: authentication failed: Invalid authentication mechanism\r\n";
        }
        mechanism = mech;
        saslStep = 0;
        if (args.size() > 1) {
            state = State.SASL;
            return response(args.get(1));
        }
        state = State.SASL;
        return mech.equals("LOGIN") ? "334 VXNlcm5hbWU6\r\n" : "334 PDEyMzQ1QG1vZGVsPg==\r\n";
    }

    private String response(String line) {
        if (line.trim().equals("*")) {
            state = State.COMMANDS;
            return "501 5.7.0 Authentication aborted\r\n";
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
    public List<Login> logins() {
        return logins;
    }

    @Override
    public List<String> commands() {
        return commands;
    }

    @Override
    public int messages() {
        return messages;
    }

    @Override
    public boolean closed() {
        return closed;
    }

    static String ascii(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }
}
