package org.gatehouse.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.util.Optional;
import org.gatehouse.rules.Protocol;

/**
 * The lines a client of each protocol understands as "try again later" or "not you", sent before the gateway closes a
 * connection it cannot serve. A {@code tcp} rule has no protocol to speak, so its clients just see the close.
 */
public final class ProtocolReplies {

    private ProtocolReplies() {
    }

    /** For when no backend server could be reached. */
    public static Optional<String> backendUnavailable(Protocol protocol) {
        return switch (protocol) {
            // RFC 2449 / 3206: SYS/TEMP tells the client the failure is temporary and not its fault.
            case POP3 -> Optional.of("-ERR [SYS/TEMP] Service temporarily unavailable, try again later\r\n");
            // RFC 9051 untagged BYE with RFC 5530's UNAVAILABLE code.
            case IMAP -> Optional.of("* BYE [UNAVAILABLE] Service temporarily unavailable, try again later\r\n");
            // RFC 5321 4.2.5 and RFC 3463 4.3.2 "system not accepting network messages".
            case SMTP -> Optional.of("421 4.3.2 Service temporarily unavailable, closing transmission channel\r\n");
            case TCP -> Optional.empty();
        };
    }

    /**
     * For a client the access lists refuse, sent in place of the greeting where the listener speaks plaintext first.
     * {@code temporary} when the refusal is DNS failing, so that a mail server queues and retries instead of bouncing.
     */
    public static Optional<String> denied(Protocol protocol, boolean temporary) {
        return switch (protocol) {
            case POP3 -> Optional.of(temporary
                    ? "-ERR [SYS/TEMP] Cannot verify your host name now, try again later\r\n"
                    : "-ERR Access denied\r\n");
            // RFC 9051 allows BYE as the greeting.
            case IMAP -> Optional.of(temporary
                    ? "* BYE [UNAVAILABLE] Cannot verify your host name now, try again later\r\n"
                    : "* BYE Access denied\r\n");
            // RFC 5321 3.1: 554 in place of the 220 greeting; RFC 3463 4.4.3 "directory server failure" for DNS.
            case SMTP -> Optional.of(temporary
                    ? "421 4.4.3 Cannot verify your host name now, try again later\r\n"
                    : "554 5.7.1 Access denied\r\n");
            case TCP -> Optional.empty();
        };
    }

    /** For a client over one of the rule's limits (connections, connections per client, connection rate). */
    public static Optional<String> overLimit(Protocol protocol) {
        return switch (protocol) {
            case POP3 -> Optional.of("-ERR [SYS/TEMP] Too many connections, try again later\r\n");
            case IMAP -> Optional.of("* BYE [UNAVAILABLE] Too many connections, try again later\r\n");
            // RFC 3463 4.7.0: other or undefined security status, as servers answer when a client is throttled.
            case SMTP -> Optional.of("421 4.7.0 Too many connections, try again later\r\n");
            case TCP -> Optional.empty();
        };
    }

    /**
     * For a client turned away because its rule has {@code maxPreLoginConnections} backend connections of clients that
     * have not logged in yet.
     */
    public static Optional<String> tooManyBeforeLogin(Protocol protocol) {
        return switch (protocol) {
            case POP3 -> Optional.of("-ERR [SYS/TEMP] Too many connections waiting to log in, try again later\r\n");
            case IMAP -> Optional.of("* BYE [UNAVAILABLE] Too many connections waiting to log in, try again later\r\n");
            // RFC 3463 4.3.2: system not accepting network messages (for now).
            case SMTP -> Optional.of("421 4.3.2 Too many connections waiting to log in, try again later\r\n");
            case TCP -> Optional.empty();
        };
    }

    /** For a client that has not logged in and has been idle for the rule's pre-login idle timeout. */
    public static Optional<String> idleBeforeLogin(Protocol protocol) {
        return switch (protocol) {
            case POP3 -> Optional.of("-ERR [SYS/TEMP] Idle too long before logging in, try again later\r\n");
            // RFC 9051 7.1.5: an untagged BYE may come at any time.
            case IMAP -> Optional.of("* BYE [UNAVAILABLE] Idle too long before logging in, try again later\r\n");
            // RFC 3463 4.4.2: bad connection, as servers say on a timeout.
            case SMTP -> Optional.of("421 4.4.2 Idle too long before logging in, closing connection\r\n");
            case TCP -> Optional.empty();
        };
    }

    /** For a client whose backend server accepted the connection and did not greet within the greeting timeout. */
    public static Optional<String> backendSilent(Protocol protocol) {
        return switch (protocol) {
            case POP3 -> Optional.of("-ERR [SYS/TEMP] The mail server did not answer, try again later\r\n");
            case IMAP -> Optional.of("* BYE [UNAVAILABLE] The mail server did not answer, try again later\r\n");
            case SMTP -> Optional.of("421 4.4.2 The mail server did not answer, try again later\r\n");
            case TCP -> Optional.empty();
        };
    }

    /**
     * For a client whose address account protection blocked (before TLS), or whose login it refused: too many failed
     * logins. Temporary, so that a real client tries again later instead of asking for a new password.
     */
    public static Optional<String> throttled(Protocol protocol) {
        return switch (protocol) {
            case POP3 -> Optional.of("-ERR [SYS/TEMP] Too many failed logins, try again later\r\n");
            case IMAP -> Optional.of("* BYE [UNAVAILABLE] Too many failed logins, try again later\r\n");
            // RFC 3463 4.7.0, as servers answer when a client is throttled; 421 since the connection closes.
            case SMTP -> Optional.of("421 4.7.0 Too many failed logins, try again later, closing connection\r\n");
            case TCP -> Optional.empty();
        };
    }

    public static ByteBuf encode(ByteBufAllocator alloc, String line) {
        return ByteBufUtil.writeAscii(alloc, line);
    }
}
