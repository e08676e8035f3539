package org.gatehouse.session;

import org.gatehouse.dns.ReverseDns;
import org.gatehouse.session.Session.Outcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per finished connection on the logger {@code gatehouse.access}, in logfmt: the fields an administrator
 * searches by, and never anything the client sent. For a rule whose access lists name domains, {@code rdns} is the
 * reverse-DNS result and {@code name} the verified name (or, with {@code rdns=not-confirmed}, the PTR's unproven claim).
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
        s.clientName().ifPresent(name -> {
            field(line, "rdns", name.result());
            field(line, "name", ReverseDns.describe(name));
        });
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
