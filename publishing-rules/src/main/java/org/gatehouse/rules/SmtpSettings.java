package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * How an SMTP rule treats a message body whose line endings are not CRLF.
 *
 * @param bareLineEndings what happens to a message with a bare CR or LF in it
 */
public record SmtpSettings(BareLineEndings bareLineEndings) {

    public SmtpSettings {
        requireNonNull(bareLineEndings, "bareLineEndings");
    }

    public static SmtpSettings defaults() {
        return new SmtpSettings(BareLineEndings.REJECT);
    }

    /**
     * A bare CR or LF in a message is where servers disagree about the end of the message (SMTP smuggling): the
     * gateway never passes one on as it is.
     */
    public enum BareLineEndings implements ConfigWord {
        /** The message is refused (554 5.6.0), never delivered, and the connection ends. The default. */
        REJECT("reject"),
        /** Every bare CR or LF becomes CRLF, so the server reads the message as the gateway does. */
        NORMALIZE("normalize");

        private final String configName;

        BareLineEndings(String configName) {
            this.configName = configName;
        }

        @Override
        public String configName() {
            return configName;
        }

        public static Optional<BareLineEndings> fromConfigName(String word) {
            return ConfigWord.parse(BareLineEndings.class, word);
        }
    }
}
