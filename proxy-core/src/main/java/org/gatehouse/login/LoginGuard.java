package org.gatehouse.login;

import static java.util.Objects.requireNonNull;

import io.netty.util.NetUtil;
import java.util.Optional;
import org.gatehouse.log.LogText;
import org.gatehouse.log.Logfmt;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.protection.Attempt;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.ProtectionSettings;
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
    private final AccountGuard accounts;
    private final ProtectionSettings protection;

    /** The login policy alone, without account protection. */
    public LoginGuard(LoginSettings settings, PlaintextLogins report) {
        this(settings, report, null, ProtectionSettings.off());
    }

    /** The login policy, and account protection by {@code accounts} with the rule's {@code protection}. */
    public LoginGuard(LoginSettings settings, PlaintextLogins report, AccountGuard accounts,
            ProtectionSettings protection) {
        this.settings = requireNonNull(settings, "settings");
        this.report = requireNonNull(report, "report");
        this.accounts = accounts;
        this.protection = requireNonNull(protection, "protection");
    }

    /**
     * A login the policy lets through, about to be forwarded: account protection's attempt for it, refused when the
     * client's address or the user is blocked (docs/account-protection.md).
     */
    public Attempt attempt(Session session, String user, String method) {
        if (accounts == null) {
            return Attempt.none();
        }
        return accounts.begin(protection, session.rule().name(), session.client().getAddress(), Sasl.user(user),
                method);
    }

    /** The account guard, when account protection is on for the rule. */
    public Optional<AccountGuard> accounts() {
        return protection.enabled() ? Optional.ofNullable(accounts) : Optional.empty();
    }

    /**
     * @param tls         whether the client connection is encrypted now
     * @param sendsSecret whether the method puts the password on the wire (USER/PASS, LOGIN, SASL PLAIN, ...)
     */
    public Verdict judge(boolean tls, boolean sendsSecret) {
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
        report.record(session.rule().name(), client, name, action, method);
        log.info("event=plaintext-login action={} rule={} client={} user={} method=\"{}\"", action,
                session.rule().name(), client, Logfmt.value(name), method);
    }
}
