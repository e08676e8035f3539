package org.gatehouse.session;

import io.netty.channel.Channel;
import org.gatehouse.log.RateLimitedLog;
import org.gatehouse.metrics.GatewayMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process running out of something at the edge, which an attack (or a busy day) can cause and which must cost only
 * the connections concerned:
 *
 * <ul>
 *   <li>memory: a connection that could not get a buffer (direct memory, or heap, exhausted) ends alone, and every
 *       other connection goes on; memory comes back as connections end;</li>
 *   <li>file descriptors: a connection that cannot be accepted, or whose backend socket cannot be opened, is refused
 *       (the client gets its protocol's "try again later"); descriptors come back as connections end.</li>
 * </ul>
 *
 * Each is counted as {@code gatehouse_resource_exhausted_total{rule,resource}} and logged once per interval with a
 * count, never with a stack trace per connection.
 */
public final class ResourceFailures {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.connections");
    private static final RateLimitedLog LOG = new RateLimitedLog(log);

    private ResourceFailures() {
    }

    /** Whether {@code cause} (or what it wraps) is an allocation that failed for want of memory. */
    public static boolean isMemoryFailure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code cause} (or what it wraps) says the process or the system has no file descriptor left. */
    public static boolean isOutOfFileDescriptors(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage();
            if (message != null && message.contains("Too many open files")) { // EMFILE, ENFILE
                return true;
            }
        }
        return false;
    }

    /** Ends {@code channel} (its peer follows through the relay) after a memory failure. */
    public static void endConnection(Channel channel, Session session, Throwable cause) {
        memoryFailure(session, cause);
        channel.close();
    }

    /** Counts and logs a memory failure of {@code session}'s connection, which the caller closes. */
    public static void memoryFailure(Session session, Throwable cause) {
        session.outcome(Session.Outcome.ERROR, "out-of-memory");
        session.meters().resourceExhausted("memory");
        String rule = session.rule().name();
        LOG.warn("memory/" + rule, () -> "out of memory for a connection, closed it alone (the others go on) rule="
                + rule + " cause=\"" + String.valueOf(cause.getMessage()).replace('"', '\'') + "\"");
    }

    /**
     * Counts and logs a socket that could not be opened for want of file descriptors; {@code where} is
     * {@code accept} or {@code backend-connect}.
     */
    public static void outOfFileDescriptors(GatewayMetrics.RuleMeters meters, String where, String consequence) {
        meters.resourceExhausted("file-descriptors");
        String rule = meters.rule();
        LOG.warn("fd/" + where + "/" + rule, () -> "out of file descriptors at " + where + " rule=" + rule + ": "
                + consequence + " (raise LimitNOFILE / ulimit -n, or lower limits.maxConnections)");
    }
}
