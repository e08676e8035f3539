package org.gatehouse.mail;

import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.gatehouse.login.LoginGuard;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.protection.Attempt;
import org.gatehouse.protection.LoginResult;
import org.gatehouse.protection.Settlement;
import org.gatehouse.session.Session;

/**
 * A session's logins as account protection sees them: the attempt under way (begun when the user is known, before its
 * credentials are forwarded), settled by the backend's reply, whose delay goes to the {@link Tarpit} within this
 * connection's share ({@link #MAX_DELAY_PER_CONNECTION}) and the gateway's ({@link AccountGuard#MAX_TARPITTED}).
 */
final class LoginAttempts {

    /** The most a connection's replies are held in all: past it, the reply goes at once and the connection ends. */
    static final long MAX_DELAY_PER_CONNECTION = 60_000;

    private final Session session;
    private final LoginGuard guard;
    private Attempt current = Attempt.none();
    private long delayed;

    LoginAttempts(Session session, LoginGuard guard) {
        this.session = session;
        this.guard = guard;
    }

    /** A login whose user is known now is about to be forwarded; false when account protection refuses it. */
    boolean begin(String user, String method) {
        current.discard();
        current = guard.attempt(session, user, method);
        return !current.refused();
    }

    /** The password tried, for the fingerprint of a failure; held until the reply, then zeroed. */
    void password(String password) {
        if (password != null && current.tracked()) {
            byte[] bytes = password.getBytes(StandardCharsets.UTF_8);
            current.password(bytes);
            Arrays.fill(bytes, (byte) 0);
        }
    }

    void password(byte[] password) {
        if (password != null) {
            current.password(password);
            Arrays.fill(password, (byte) 0);
        }
    }

    /** The backend's final reply to the login is about to go out: counted, and held if protection says so. */
    void settle(ChannelHandlerContext inspector, LoginResult result) {
        if (!current.tracked()) {
            return;
        }
        Settlement settlement = current.settle(result);
        current = Attempt.none();
        long delay = settlement.delayMillis();
        boolean close = settlement.close();
        if (delay > 0 && delayed + delay > MAX_DELAY_PER_CONNECTION) {
            delay = Math.max(0, MAX_DELAY_PER_CONNECTION - delayed);
            close = true;
        }
        Runnable released = () -> {
        };
        AccountGuard accounts = guard.accounts().orElse(null);
        if (delay > 0 && accounts != null) {
            if (accounts.holdReply(session.rule().name())) {
                released = accounts::replyReleased;
            } else {
                delay = 0;
                close = true;
            }
        }
        delayed += delay;
        if (delay > 0 || close) {
            Tarpit.hold(inspector, delay, close, released);
        }
    }

    /** The session ends, or a new login starts: the attempt under way is given up. */
    void discard() {
        current.discard();
        current = Attempt.none();
    }
}
