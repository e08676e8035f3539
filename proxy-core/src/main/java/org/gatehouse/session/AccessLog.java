package org.gatehouse.session;

import io.netty.util.NetUtil;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.gatehouse.dns.ReverseDns;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.ServiceSettings.AccessLogFormat;
import org.gatehouse.session.Session.Outcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per finished connection on the logger {@code gatehouse.access}: the fields an administrator searches by,
 * and never anything the client sent. In logfmt by default, or as one JSON object (with {@code time}) when the rules
 * say {@code accessLog: {format: json}}. For a rule whose access lists name domains, {@code rdns} is the reverse-DNS
 * result and {@code name} the verified name (or, with {@code rdns=not-confirmed}, the PTR's unproven claim).
 */
public final class AccessLog {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.access");
    private static final JsonFactory JSON = new JsonFactory();

    /** Process-wide, like the log itself; set from the rules at start and on each reload. */
    private static volatile AccessLogFormat format = AccessLogFormat.LOGFMT;

    private AccessLog() {
    }

    public static void format(AccessLogFormat newFormat) {
        format = newFormat;
    }

    static void write(Session s, Outcome outcome, String reason, long durationMillis) {
        if (!log.isInfoEnabled()) {
            return;
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("rule", s.rule().name());
        fields.put("client", NetUtil.toAddressString(s.client().getAddress()));
        fields.put("client_port", s.client().getPort());
        s.clientName().ifPresent(name -> {
            fields.put("rdns", name.result());
            fields.put("name", LogText.clean(ReverseDns.describe(name)));
        });
        fields.put("tls", dash(s.tlsProtocol()));
        fields.put("cipher", dash(s.tlsCipher()));
        fields.put("sni", dash(s.sni()));
        if (!s.clientCertificate().isEmpty()) {
            fields.put("client_cert", s.clientCertificate());
        }
        fields.put("backend", dash(s.backend()));
        if (!s.loginAction().isEmpty()) {
            fields.put("login", s.loginAction());
            fields.put("user", s.user());
        }
        fields.put("bytes_in", s.bytesFromClient());
        fields.put("bytes_out", s.bytesToClient());
        fields.put("duration_ms", durationMillis);
        fields.put("outcome", outcome.label());
        if (!reason.isEmpty()) {
            fields.put("reason", reason);
        }
        log.info(format == AccessLogFormat.JSON ? json(fields) : logfmt(fields));
    }

    private static String dash(String value) {
        return value.isEmpty() ? "-" : value;
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
