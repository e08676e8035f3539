package org.gatehouse.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;
import org.gatehouse.rules.ServiceSettings.AccessLogFormat;

/**
 * Every log line of the process, in the format the rules file chose ({@code accessLog: {format: …}}), so that a
 * machine can read all of them: logfmt ({@code time=… level=… logger=… msg="…"}) or one JSON object per line
 * ({@code {"time":…,"level":…,"logger":…,"msg":…}}). The access and login lines, fields already, are spliced in as
 * fields rather than quoted as a message. Named in {@code logback.xml}; an operator's own logback configuration can use
 * it with any appender (a rolling file, say).
 */
public final class LineEncoder extends EncoderBase<ILoggingEvent> {

    private static final JsonFactory JSON = new JsonFactory();
    private static volatile AccessLogFormat format = initial();

    /** Every line from now on in {@code chosen}; the rules file decides, at start and on reload. */
    public static void use(AccessLogFormat chosen) {
        format = chosen;
    }

    /** Before the rules are read: {@code -Dgatehouse.log.format=json} (or the environment's GATEHOUSE_LOG_FORMAT). */
    private static AccessLogFormat initial() {
        String word = System.getProperty("gatehouse.log.format", System.getenv("GATEHOUSE_LOG_FORMAT"));
        return word == null
                ? AccessLogFormat.LOGFMT
                : AccessLogFormat.fromConfigName(word.toLowerCase(Locale.ROOT)).orElse(AccessLogFormat.LOGFMT);
    }

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        return (line(event, format) + '\n').getBytes(StandardCharsets.UTF_8);
    }

    /** {@code event}'s line in {@code chosen}, without its newline: what {@link #encode} writes in that format. */
    public static String line(ILoggingEvent event, AccessLogFormat chosen) {
        return chosen == AccessLogFormat.JSON ? json(event) : logfmt(event);
    }

    /** The logger's last name: {@code Gateway}, {@code access}. */
    private static String logger(ILoggingEvent event) {
        String name = event.getLoggerName();
        return name.substring(name.lastIndexOf('.') + 1);
    }

    /** Lines whose message is fields already (the access line, the plaintext-login and account protection events). */
    private static boolean fields(ILoggingEvent event) {
        String name = event.getLoggerName();
        return name.equals("gatehouse.access") || name.equals("gatehouse.login")
                || name.equals("gatehouse.protection");
    }

    static String logfmt(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(160).append("time=")
                .append(Instant.ofEpochMilli(event.getTimeStamp())).append(" level=")
                .append(event.getLevel().toString().toLowerCase(Locale.ROOT)).append(" logger=").append(logger(event));
        String message = event.getFormattedMessage();
        if (fields(event) && !message.startsWith("{")) {
            line.append(' ').append(message);
        } else {
            line.append(" msg=").append(Logfmt.value(message));
        }
        IThrowableProxy error = event.getThrowableProxy();
        if (error != null) {
            line.append(" error=").append(Logfmt.value(error.getClassName() + ": " + error.getMessage()));
        }
        return line.toString();
    }

    static String json(ILoggingEvent event) {
        String message = event.getFormattedMessage();
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("time", Instant.ofEpochMilli(event.getTimeStamp()).toString());
            g.writeStringField("level", event.getLevel().toString().toLowerCase(Locale.ROOT));
            g.writeStringField("logger", logger(event));
            boolean spliced = fields(event) && message.startsWith("{") && message.endsWith("}");
            if (!spliced) {
                g.writeStringField("msg", message);
            }
            IThrowableProxy error = event.getThrowableProxy();
            if (error != null) {
                g.writeStringField("error", ThrowableProxyUtil.asString(error));
            }
            g.writeEndObject();
            g.flush();
            if (spliced) {
                // the access line's own JSON object (with its own time), its fields after level and logger
                String head = out.toString();
                return head.substring(0, head.length() - 1) + ","
                        + message.substring(1).replaceFirst("^\"time\":\"[^\"]*\",", "");
            }
        } catch (IOException e) {
            throw new IllegalStateException("writing JSON to a string", e);
        }
        return out.toString();
    }
}
