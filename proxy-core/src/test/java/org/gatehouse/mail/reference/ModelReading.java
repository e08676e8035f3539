package org.gatehouse.mail.reference;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What each model reads of a fuzz input, for {@code interop/models.sh}, which sends the same bytes to the real Postfix
 * and Dovecot and compares. For each file given (a client-direction input of {@code InspectorFuzzTest}: the first byte
 * sets the read size, {@code (b & 0x3f) + 1}, the rest is what the client sends), the model its folder names
 * ({@code smtpClient}: Postfix, {@code pop3Client}, {@code imapClient}: Dovecot) receives the bytes in reads of that
 * size, as the fuzz test feeds it, and one JSON line is printed: the file, the model, the read size, its
 * {@code commands()}, {@code logins()}, {@code messages()}, {@code closed()}, everything it answered, and its answer to
 * each read (model_check.py waits for the real server's answer where the model gave one).
 *
 * <pre>java -cp proxy-core/target/proxy-core-*-tests.jar org.gatehouse.mail.reference.ModelReading FILE...</pre>
 *
 * The models use only the JDK, so the test-jar is the whole class path.
 */
public final class ModelReading {

    private ModelReading() {
    }

    public static void main(String[] args) throws IOException {
        StringBuilder out = new StringBuilder();
        for (String arg : args) {
            out.append(read(Path.of(arg))).append('\n');
        }
        System.out.print(out);
    }

    static String read(Path file) throws IOException {
        byte[] data = Files.readAllBytes(file);
        String folder = file.toAbsolutePath().getParent().getFileName().toString();
        ReferenceServer server = switch (folder) {
            case "smtpClient" -> SmtpServer.postfix();
            case "pop3Client" -> Pop3Server.dovecot();
            case "imapClient" -> ImapServer.dovecot();
            default -> throw new IllegalArgumentException(file + ": not in smtpClient/, pop3Client/ or imapClient/");
        };
        int read = data.length == 0 ? 1 : (data[0] & 0x3f) + 1;
        StringBuilder replies = new StringBuilder();
        List<String> reads = new ArrayList<>();
        for (int i = 1; i < data.length && !server.closed(); i += read) {
            reads.add(server.receive(Arrays.copyOfRange(data, i, Math.min(data.length, i + read))));
            replies.append(reads.get(reads.size() - 1));
        }
        String logins = server.logins().stream()
                .map(l -> "{\"command\":" + json(l.command()) + ",\"mechanism\":" + json(l.mechanism())
                        + ",\"secret\":" + l.secret() + "}")
                .collect(Collectors.joining(",", "[", "]"));
        return "{\"file\":" + json(folder + "/" + file.getFileName()) + ",\"model\":" + json(server.name())
                + ",\"read\":" + read + ",\"commands\":" + json(server.commands()) + ",\"logins\":" + logins
                + ",\"messages\":" + server.messages() + ",\"closed\":" + server.closed()
                + ",\"replies\":" + json(replies.toString()) + ",\"reads\":" + json(reads) + "}";
    }

    private static String json(List<String> values) {
        return values.stream().map(ModelReading::json).collect(Collectors.joining(",", "[", "]"));
    }

    /** A JSON string; every character outside printable ASCII as {@code \\u00XX} (the models read ISO-8859-1). */
    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
