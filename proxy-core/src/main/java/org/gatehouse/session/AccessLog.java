package org.gatehouse.session;

import org.gatehouse.session.Session.Outcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per finished connection on the logger {@code gatehouse.access}, in logfmt: the fields an administrator
 * searches by, and never anything the client sent.
 */
final class AccessLog {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.access");

    private AccessLog() {
    }

    static void write(Session s, Outcome outcome, String reason, String tlsProtocol, String tlsCipher, String backend,
            long durationMillis) {
        if (!log.isInfoEnabled()) {
            return;
        }
        StringBuilder line = new StringBuilder(192);
        field(line, "rule", s.rule().name());
        field(line, "client", s.client().getAddress().getHostAddress() + ':' + s.client().getPort());
        field(line, "tls", tlsProtocol.isEmpty() ? "-" : tlsProtocol);
        field(line, "cipher", tlsCipher.isEmpty() ? "-" : tlsCipher);
        field(line, "backend", backend.isEmpty() ? "-" : backend);
        if (!s.loginAction().isEmpty()) {
            field(line, "login", s.loginAction());
            field(line, "user", s.user());
        }
        field(line, "bytes_in", Long.toString(s.bytesFromClient()));
        field(line, "bytes_out", Long.toString(s.bytesToClient()));
        field(line, "duration_ms", Long.toString(durationMillis));
        field(line, "outcome", outcome.label());
        if (!reason.isEmpty()) {
            field(line, "reason", reason);
        }
        log.info(line.toString());
    }

    private static void field(StringBuilder line, String key, String value) {
        if (line.length() > 0) {
            line.append(' ');
        }
        line.append(key).append('=').append(Logfmt.value(value));
    }
}
