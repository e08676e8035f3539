package org.gatehouse.login;

import static java.util.Objects.requireNonNull;

import io.netty.util.NetUtil;
import java.util.Set;
import org.gatehouse.log.LogText;
import org.gatehouse.log.Logfmt;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.LoginSettings.SecureChannel;
import org.gatehouse.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a rule's login policy to one login attempt, and records what it decided: a line on the logger
 * {@code gatehouse.login}, a counter, the connection's access-log fields and the {@link PlaintextLogins} report. It
 * sees user names, never passwords.
 */
public final class LoginGuard {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.login");
    /** SMTP commands of a mail transaction (BDAT is never passed on; see the SMTP inspector). */
    private static final Set<String> TRANSACTIONS = Set.of("MAIL", "RCPT", "DATA", "VRFY", "EXPN");

    /** What happens to a login attempt. */
    public enum Verdict {
        /** Forwarded: TLS protects it, or the mechanism never sends the password. */
        ALLOW,
        /** Forwarded and recorded: it would be refused under secure-only. */
        AUDIT,
        /** Answered by the gateway with a refusal; nothing of it reaches the backend. */
        REFUSE
    }

    private final LoginSettings settings;
    private final PlaintextLogins report;
    // One guard per connection, on its event loop: what the session without TLS did, for the report.
    private String capabilities;
    private String hello = "";
    private boolean recorded;

    public LoginGuard(LoginSettings settings, PlaintextLogins report) {
        this.settings = requireNonNull(settings, "settings");
        this.report = requireNonNull(report, "report");
    }

    /**
     * @param tls         whether the client connection is encrypted now
     * @param sendsSecret whether the method puts the password on the wire (USER/PASS, LOGIN, SASL PLAIN, ...)
     */
    public Verdict judge(boolean tls, boolean sendsSecret) {
        if (!tls && settings.secureChannel() == SecureChannel.REQUIRED) {
            return Verdict.REFUSE;
        }
        if (tls || (!sendsSecret && settings.challengeResponseWithoutTls())) {
            return Verdict.ALLOW;
        }
        return switch (settings.policy()) {
            case SECURE_ONLY -> Verdict.REFUSE;
            case AUDIT -> Verdict.AUDIT;
            case PLAINTEXT_ALLOWED -> Verdict.ALLOW;
        };
    }

    /** Whether logins that send the password are refused right now, so they should not be advertised either. */
    public boolean refusesPlaintext(boolean tls) {
        return judge(tls, true) == Verdict.REFUSE;
    }

    /** Whether a SASL mechanism should be advertised right now: it is, unless the policy would refuse it. */
    public boolean offers(boolean tls, String mechanism) {
        return judge(tls, Sasl.sendsSecret(mechanism)) != Verdict.REFUSE;
    }

    /**
     * Records a login attempt the policy refused or audited.
     *
     * @param method the command and mechanism in the gateway's words (USER, LOGIN, {@link Sasl#method}), never the
     *               client's
     * @param user   the user name as the client sent it (decoded), or empty when it is not known; escaped here
     */
    public void record(Session session, Verdict verdict, String method, String user) {
        if (verdict == Verdict.ALLOW) {
            return;
        }
        String action = verdict == Verdict.REFUSE ? PlaintextLogins.REFUSED : PlaintextLogins.AUDITED;
        String name = user.isEmpty() ? "-" : LogText.clean(Sasl.user(user));
        session.meters().plaintextLogin(action);
        session.login(action, name);
        String client = NetUtil.toAddressString(session.client().getAddress());
        recorded = true;
        report.record(session.rule().name(), client, name, action, method, hello);
        log.info("event=plaintext-login action={} rule={} client={} user={} method=\"{}\"", action,
                session.rule().name(), client, Logfmt.value(name), method);
    }

    /**
     * The client was shown the capability list before TLS ({@code command}: CAPA, CAPABILITY, EHLO): if it leaves
     * without STARTTLS and without trying to log in, it is recorded as having left (a client that finds no login it
     * may use, and gives up).
     */
    public void capabilitiesShown(boolean tls, String command) {
        if (!tls && capabilities == null && command != null) {
            capabilities = command;
        }
    }

    /** What the client called itself (SMTP EHLO/HELO, IMAP ID), as it wrote it; escaped here, for the report. */
    public void hello(String name) {
        hello = LogText.clean(name);
    }

    /** The server accepted a login, or the client started a transaction: it did not give up. */
    public void loggedIn() {
        capabilities = null;
    }

    /**
     * An SMTP transaction command before TLS ({@code verb}: MAIL, RCPT, DATA, BDAT, VRFY, EXPN): refused under
     * {@code secureChannel: required}; recorded (once per session, at MAIL) unless the rule records nothing of the
     * kind.
     */
    public Verdict transaction(Session session, boolean tls, String verb) {
        if (tls || !TRANSACTIONS.contains(verb)) {
            return Verdict.ALLOW;
        }
        capabilities = null;
        Verdict verdict = settings.secureChannel() == SecureChannel.REQUIRED ? Verdict.REFUSE : Verdict.AUDIT;
        if (verdict == Verdict.AUDIT && (!settings.recordsSessionsWithoutTls() || !verb.equals("MAIL"))) {
            return Verdict.ALLOW;
        }
        if (!recorded || verdict == Verdict.REFUSE) {
            String action = verdict == Verdict.REFUSE ? PlaintextLogins.REFUSED : PlaintextLogins.AUDITED;
            note(session, "transaction", action, verb);
        }
        return verdict;
    }

    /** The connection closed: a client that saw the capabilities before TLS and did nothing else is recorded. */
    public void ended(Session session) {
        if (capabilities != null && !recorded && !session.encrypted() && settings.recordsSessionsWithoutTls()) {
            note(session, "left", PlaintextLogins.LEFT, "no STARTTLS after " + capabilities);
        }
    }

    private void note(Session session, String what, String action, String method) {
        recorded = true;
        String client = NetUtil.toAddressString(session.client().getAddress());
        session.meters().withoutTls(what, action);
        report.record(session.rule().name(), client, "-", action, method, hello);
        log.info("event={}-without-tls action={} rule={} client={} command=\"{}\" hello={}", what, action,
                session.rule().name(), client, method, Logfmt.value(hello.isEmpty() ? "-" : hello));
    }
}
