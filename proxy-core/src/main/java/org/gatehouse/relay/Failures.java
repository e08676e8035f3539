package org.gatehouse.relay;

import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import javax.net.ssl.SSLException;
import org.gatehouse.session.ResourceFailures;
import org.gatehouse.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logging of connection failures: expected network errors at debug, memory failures once per interval (see
 * {@link ResourceFailures}), anything else once, with its context.
 */
final class Failures {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.relay");

    private Failures() {
    }

    static void log(Session session, String side, Throwable cause) {
        if (ResourceFailures.isMemoryFailure(cause)) {
            ResourceFailures.memoryFailure(session, cause); // this connection alone ends; no stack trace per connection
        } else if (expected(cause)) {
            session.outcome(Session.Outcome.CLOSED, side + "-reset");
            log.debug("{} connection error rule={} client={}: {}", side, session.rule().name(), session.client(),
                    cause.toString());
        } else {
            session.outcome(Session.Outcome.ERROR, cause.getClass().getSimpleName());
            log.warn("unexpected {} connection error rule={} client={}", side, session.rule().name(), session.client(),
                    cause);
        }
    }

    /** Resets, broken pipes and TLS alerts from a peer are part of life on the Internet. */
    static boolean expected(Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        return c instanceof IOException || c instanceof SSLException || c instanceof ClosedChannelException;
    }
}
