package org.gatehouse.log;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;
import java.util.Map;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.ServiceSettings.AccessLogFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per finished connection on the logger {@code gatehouse.access}: the fields an administrator searches by
 * ({@code Session} chooses them), never a secret. In logfmt by default, or as one JSON object (with {@code time}) when the rules
 * say {@code accessLog: {format: json}}. For a rule whose access lists name domains, {@code rdns} is the reverse-DNS
 * result and {@code name} the verified name (or, with {@code rdns=not-confirmed}, the PTR's unproven claim).
 */
public final class AccessLog {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.access");
    private static final JsonFactory JSON = new JsonFactory();
    private static final AccessLog LOGFMT = new AccessLog(AccessLogFormat.LOGFMT);
    private static final AccessLog JSON_LINES = new AccessLog(AccessLogFormat.JSON);

    private final AccessLogFormat format;

    private AccessLog(AccessLogFormat format) {
        this.format = format;
    }

    /** The access log in the format the rules ask for; each connection keeps the one it was accepted under. */
    public static AccessLog of(AccessLogFormat format) {
        return format == AccessLogFormat.JSON ? JSON_LINES : LOGFMT;
    }

    /** Whether a line would be written at all, so the caller can skip building its fields. */
    public static boolean enabled() {
        return log.isInfoEnabled();
    }

    /**
     * Writes one connection's line: {@code fields} in order, values as they are (strings a client chose are escaped
     * by the caller, {@link LogText}); {@code client} and {@code client_port} make one {@code address:port} field in
     * logfmt.
     */
    public void write(Map<String, Object> fields) {
        if (log.isInfoEnabled()) {
            log.info(format == AccessLogFormat.JSON ? json(fields) : logfmt(fields));
        }
    }

    /** logfmt, with the client as one {@code address:port} field ({@code [v6]:port}), as searched for since the start. */
    static String logfmt(Map<String, Object> fields) {
        StringBuilder line = new StringBuilder(192);
        for (Map.Entry<String, Object> f : fields.entrySet()) {
            String key = f.getKey();
            if (key.equals("client_port")) {
                continue;
            }
            String value = key.equals("client")
                    ? new HostPort((String) f.getValue(), (Integer) fields.get("client_port")).toString()
                    : String.valueOf(f.getValue());
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(key).append('=').append(Logfmt.value(value));
        }
        return line.toString();
    }

    static String json(Map<String, Object> fields) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("time", Instant.now().toString());
            for (Map.Entry<String, Object> f : fields.entrySet()) {
                if (f.getValue() instanceof Number n) {
                    g.writeNumberField(f.getKey(), n.longValue());
                } else {
                    g.writeStringField(f.getKey(), String.valueOf(f.getValue()));
                }
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("writing JSON to a string", e);
        }
        return out.toString();
    }
}
