package org.gatehouse.protection;

import org.gatehouse.log.Logfmt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Account protection's log lines (logger {@code gatehouse.protection}), in a fixed logfmt form that fail2ban's filter in
 * deploy/fail2ban reads: {@code event=block kind=address client=ADDRESS ...}. User names are escaped already
 * ({@link Users#key}); a password never reaches this class.
 */
final class ProtectionLog {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.protection");

    void result(Attempt a, LoginResult result, boolean repeat, int failures, long delayMillis) {
        if (result == LoginResult.SUCCESS) {
            if (log.isDebugEnabled()) {
                log.debug("event=login result=success rule={} client={} user={} method=\"{}\"", a.rule, a.address,
                        user(a.user), a.method);
            }
            return;
        }
        if (result == LoginResult.BAD_CREDENTIALS) {
            log.info("event=login result={} rule={} client={} user={} method=\"{}\" repeat={} failures={} delay_ms={}",
                    result.label(), a.rule, a.address, user(a.user), a.method, repeat, failures, delayMillis);
        } else {
            log.info("event=login result={} rule={} client={} user={} method=\"{}\"", result.label(), a.rule,
                    a.address, user(a.user), a.method);
        }
    }

    void refused(String rule, String client, String user, String method, String reason) {
        log.info("event=login result=refused reason={} rule={} client={} user={} method=\"{}\"", reason, rule, client,
                user(user), method);
    }

    void wouldRefuse(String rule, String client, String user, String method, String reason) {
        log.info("event=login result=would-refuse reason={} rule={} client={} user={} method=\"{}\" mode=report",
                reason, rule, client, user(user), method);
    }

    void blocked(Block b, String client, long seconds) {
        if (b.kind() == Block.Kind.ADDRESS) {
            log.warn("event=block kind=address client={} rule={} reason={} duration_s={}", b.key(), b.rule(),
                    b.reason(), seconds);
        } else {
            log.warn("event=block kind=user user={} client={} rule={} reason={} duration_s={}", user(b.key()), client,
                    b.rule(), b.reason(), seconds);
        }
    }

    void wouldBlock(Block b, String client) {
        log.warn("event=would-block kind={} {}={} client={} rule={} reason={} mode=report", b.kind().label(),
                b.kind() == Block.Kind.ADDRESS ? "address" : "user", b.kind() == Block.Kind.ADDRESS
                        ? b.key()
                        : user(b.key()),
                client, b.rule(), b.reason());
    }

    void unblocked(Block b, String by) {
        if (b.kind() == Block.Kind.ADDRESS) {
            log.info("event=unblock kind=address client={} by={}", b.key(), by);
        } else {
            log.info("event=unblock kind=user user={} by={}", user(b.key()), by);
        }
    }

    void store(String what) {
        log.warn("event=store {}", what);
    }

    private static String user(String key) {
        return key.isEmpty() ? "-" : Logfmt.value(key);
    }
}
