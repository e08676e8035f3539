package org.gatehouse.tls;

import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
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
    static boolean completed(Session session, SslHandler ssl, SslHandshakeCompletionEvent event) {
        long nanos = System.nanoTime() - session.tlsStartNanos();
        if (event.isSuccess()) {
            SSLSession tls = ssl.engine().getSession();
            session.tls(tls.getProtocol(), tls.getCipherSuite(), sni(tls));
            if (ssl.engine().getNeedClientAuth() || ssl.engine().getWantClientAuth()) {
                // only then: asking a session without a peer certificate costs an exception with a stack trace
                clientCertificate(tls).ifPresent(session::clientCertificate);
            }
            session.meters().tlsHandshake(tls.getProtocol(), nanos);
            return true;
        }
        String reason = failureReason(event.cause());
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

    /** The host name the client asked for in its ClientHello, if any. */
    private static String sni(SSLSession tls) {
        if (tls instanceof ExtendedSSLSession extended) {
            for (SNIServerName name : extended.getRequestedServerNames()) {
                if (name instanceof SNIHostName host) {
                    return host.getAsciiName();
                }
            }
        }
        return "";
    }

    /** A few fixed words for why a handshake failed, fit for a metric label (the detail goes to the debug log). */
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
        String message = String.valueOf(cause.getMessage()).toUpperCase(Locale.ROOT);
        if (message.contains("NO_SHARED_CIPHER") || message.contains("NO CIPHER SUITES IN COMMON")) {
            return "no-shared-cipher";
        }
        if (message.contains("PROTOCOL_VERSION") || message.contains("UNSUPPORTED_PROTOCOL")
                || message.contains("PROTOCOL IS DISABLED") || message.contains("NO APPROPRIATE PROTOCOL")) {
            return "protocol-version";
        }
        if (message.contains("CERTIFICATE") || message.contains("UNKNOWN_CA") || message.contains("UNKNOWN CA")) {
            return "certificate-rejected";
        }
        if (message.contains("CLOSED") || message.contains("RESET")) {
            return "closed";
        }
        return "other";
    }
}
