package org.gatehouse.mail;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an IMAP client calls itself in its ID command (RFC 2971): {@code a ID ("name" "Thunderbird" "version"
 * "115.3")} gives {@code Thunderbird 115.3}, for the report, so that it answers "which program is that?".
 */
final class ImapId {

    private static final Pattern FIELD = Pattern.compile("\"(name|version|os)\"\\s+\"((?:[^\"\\\\]|\\\\.){0,100})\"",
            Pattern.CASE_INSENSITIVE);

    private ImapId() {
    }

    /** The client's name and version from an ID command line, as written (to be escaped by whoever logs it). */
    static Optional<String> name(String command, String line) {
        if (!command.equals("ID")) {
            return Optional.empty();
        }
        String name = "";
        String version = "";
        Matcher m = FIELD.matcher(line);
        while (m.find()) {
            switch (m.group(1).toLowerCase(Locale.ROOT)) {
                case "name" -> name = m.group(2);
                case "version" -> version = m.group(2);
                default -> {
                }
            }
        }
        String id = (name + " " + version).strip();
        return id.isEmpty() ? Optional.empty() : Optional.of(id);
    }
}
