package org.gatehouse.tls;

import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.internal.tcnative.SSL;
import java.nio.channels.ClosedChannelException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.gatehouse.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens when a client's TLS handshake ends, implicit or after STARTTLS: the session learns the version and
 * cipher, and the rule's meters count it by version or by why it failed.
 */
final class Handshakes {

    private static final Logger log = LoggerFactory.getLogger(Handshakes.class);

    private Handshakes() {
    }

    /**
     * Records the end of a handshake, which began at {@link Session#tlsStartNanos()}.
     *
     * @return whether it succeeded; a failure is recorded as the session's outcome, and the caller closes
     */
    static boolean completed(Session session, SslHandler ssl, SslHandshakeCompletionEvent event, String clientAlert) {
        long nanos = System.nanoTime() - session.tlsStartNanos();
        if (event.isSuccess()) {
            SSLSession tls = ssl.engine().getSession();
            session.tls(tls.getProtocol(), tls.getCipherSuite(), sni(ssl.engine(), tls));
            if (ssl.engine().getNeedClientAuth() || ssl.engine().getWantClientAuth()) {
                // only then: asking a session without a peer certificate costs an exception with a stack trace
                clientCertificate(tls).ifPresent(session::clientCertificate);
            }
            session.meters().tlsHandshake(tls.getProtocol(), nanos);
            return true;
        }
        String reason = clientAlert != null ? clientAlert : failureReason(event.cause());
        session.meters().tlsHandshakeFailed(reason, nanos);
        session.meters().rejected("tls-handshake");
        session.outcome(Session.Outcome.TLS_FAILED, reason);
        log.debug("TLS handshake failed rule={} client={} reason={}: {}", session.rule().name(), session.client(),
                reason,
                event.cause().toString());
        return false;
    }

    /** The verified subject of the client's certificate, when the rule asks for one and the client sent it. */
    private static Optional<String> clientCertificate(SSLSession tls) {
        try {
            Certificate[] chain = tls.getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate x509) {
                return Optional.of(x509.getSubjectX500Principal().getName());
            }
        } catch (SSLPeerUnverifiedException e) {
            // no client certificate
        }
        return Optional.empty();
    }

    /**
     * The host name the client asked for in its ClientHello, if any. BoringSSL's own copy is read where there is one:
     * the JDK's session view decodes it into an {@code SNIHostName} first (a charset decoder and IDN's rules, about 1%
     * of the gateway's CPU per handshake), for a name BoringSSL already checked (at most 255 bytes, no NUL) and that
     * the session cleans before it reaches a log.
     */
    private static String sni(SSLEngine engine, SSLSession tls) {
        if (engine instanceof ReferenceCountedOpenSslEngine openssl) {
            synchronized (openssl) { // as Netty does: the pointer is freed under this lock
                long pointer = openssl.sslPointer();
                String name = pointer == 0 ? null : SSL.getSniHostname(pointer);
                return name == null ? "" : name;
            }
        }
        if (tls instanceof ExtendedSSLSession extended) {
            for (SNIServerName name : extended.getRequestedServerNames()) {
                if (name instanceof SNIHostName host) {
                    return host.getAsciiName();
                }
            }
        }
        return "";
    }

    /**
     * Why a handshake failed, from a closed list fit for a metric label (docs/operations.md lists it; the detail goes to
     * the debug log): the client rejected the certificate ({@code certificate-unknown-ca}, {@code certificate-expired},
     * {@code certificate-rejected}), no version, cipher or key-exchange group in common ({@code protocol-version},
     * {@code no-shared-cipher}, {@code no-shared-group}), another alert from the client ({@code client-alert}), not TLS
     * at all ({@code not-tls}), the client closed during the handshake ({@code closed}), {@code timeout}, or
     * {@code other}. Both engines' words are read: BoringSSL's error names and the JDK's alert names.
     */
    static String failureReason(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SslHandshakeTimeoutException) {
                return "timeout";
            }
            if (t instanceof NotSslRecordException) {
                return "not-tls";
            }
            if (t instanceof ClosedChannelException) {
                return "closed";
            }
        }
        String message = String.valueOf(cause.getMessage()).toUpperCase(Locale.ROOT).replace(' ', '_');
        for (String[] word : MESSAGE_WORDS) {
            for (int i = 1; i < word.length; i++) {
                if (message.contains(word[i])) {
                    return word[0];
                }
            }
        }
        return "other";
    }

    /** Reasons and the words in an engine's message that mean them, most specific first. */
    private static final String[][] MESSAGE_WORDS = {
            {"certificate-unknown-ca", "ALERT_UNKNOWN_CA", "UNKNOWN_CA"},
            {"certificate-expired", "CERTIFICATE_EXPIRED"},
            {"certificate-rejected", "BAD_CERTIFICATE", "CERTIFICATE_UNKNOWN", "UNSUPPORTED_CERTIFICATE",
                    "CERTIFICATE_REVOKED"},
            {"no-shared-group", "NO_SHARED_GROUP", "NO_SUPPORTED_GROUP", "NO_COMMON_NAMED_GROUP",
                    "NO_SUPPORTED_NAMED_GROUP"},
            // BoringSSL's WRONG_CURVE: no suite the client offers works with the certificate's key and its curves
            {"no-shared-cipher", "NO_SHARED_CIPHER", "NO_CIPHER_SUITES_IN_COMMON", "WRONG_CURVE"},
            {"protocol-version", "PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "PROTOCOL_IS_DISABLED",
                    "NO_APPROPRIATE_PROTOCOL"},
            {"not-tls", "WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNSUPPORTED_OR_UNRECOGNIZED_SSL_MESSAGE"},
            {"client-alert", "ALERT_HANDSHAKE_FAILURE", "ALERT_DECRYPT_ERROR", "ALERT_ILLEGAL_PARAMETER",
                    "ALERT_INSUFFICIENT_SECURITY", "RECEIVED_FATAL_ALERT"},
            {"closed", "CLOSED", "RESET"}};

    /** The reason for a fatal alert the client sent, by its description (RFC 8446 section 6). */
    static String alertReason(int description) {
        return switch (description) {
            case 48 -> "certificate-unknown-ca";
            case 45 -> "certificate-expired";
            case 42, 43, 44, 46 -> "certificate-rejected";
            case 70 -> "protocol-version";
            case 0, 90 -> "closed";
            default -> "client-alert";
        };
    }
}
