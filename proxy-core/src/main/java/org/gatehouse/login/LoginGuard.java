package org.gatehouse.login;

import static java.util.Objects.requireNonNull;

import io.netty.util.NetUtil;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gatehouse.log.LogText;
import org.gatehouse.log.Logfmt;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.protection.Attempt;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.LoginSettings.SecureChannel;
import org.gatehouse.rules.ProtectionSettings;
import org.gatehouse.rules.Protocol;
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
    /**
     * What a client may send before TLS under {@code secureChannel: required}, besides its login commands (judged, and
     * refused, as logins): what shows the capabilities, starts TLS, or ends the session. Documented in
     * docs/login-policy.md.
     */
    static final Map<Protocol, Set<String>> ALLOWED_BEFORE_TLS = Map.of(
            Protocol.POP3, Set.of("CAPA", "STLS", "NOOP", "QUIT", "USER", "PASS", "APOP", "AUTH"),
            Protocol.IMAP, Set.of("CAPABILITY", "STARTTLS", "NOOP", "LOGOUT", "ID", "LOGIN", "AUTHENTICATE"),
            Protocol.SMTP, Set.of("EHLO", "HELO", "STARTTLS", "NOOP", "RSET", "QUIT", "HELP", "AUTH", "X-EXPS"));

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
    // One guard per connection, on its event loop: what the session without TLS did, for the report.
    private String capabilities;
    private String hello = "";
    private boolean recorded;

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
        report.record(session.rule().name(), client, name, action, method, hello, session.verifiedName());
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

    /**
     * The server accepted a login, or the client started a transaction: it did not give up. A login without TLS that
     * was not recorded already (a challenge-response one such as APOP or CRAM-MD5, or IMAP PREAUTH) is recorded as
     * mail access without TLS: the password stayed secret, the mail it reads or sends does not.
     */
    public void loggedIn(Session session, boolean tls) {
        capabilities = null;
        if (!tls && !recorded && settings.recordsSessionsWithoutTls()) {
            note(session, "transaction", PlaintextLogins.AUDITED, PlaintextLogins.AFTER_LOGIN);
        }
    }

    /**
     * A command before login and before TLS, judged by {@code secureChannel} (Exchange's "require secure channel").
     * Under {@code required} only what starts TLS or ends the session passes ({@link #ALLOWED_BEFORE_TLS}; logins
     * are judged by {@link #judge}, which refuses every one): a mail transaction (SMTP MAIL, RCPT, DATA, BDAT, VRFY,
     * EXPN, ETRN), a mailbox command (POP3 STAT, LIST, RETR, TOP, ..., IMAP SELECT, EXAMINE, FETCH, ...) or any other
     * command is refused, recorded once per session. Under {@code audit} an SMTP MAIL is recorded (POP3 and IMAP
     * reach their mailbox commands through a login only: see {@link #loggedIn}).
     */
    public Verdict transaction(Session session, boolean tls, String verb) {
        Protocol protocol = session.rule().protocol();
        if (tls || ALLOWED_BEFORE_TLS.getOrDefault(protocol, Set.of()).contains(verb)) {
            return Verdict.ALLOW;
        }
        if (settings.secureChannel() == SecureChannel.REQUIRED) {
            capabilities = null;
            if (!recorded) {
                note(session, "transaction", PlaintextLogins.REFUSED, PlaintextLogins.transactionMethod(verb));
            }
            return Verdict.REFUSE; // the inspector counts it (commandRefused tls-required) as it answers
        }
        if (protocol == Protocol.SMTP && verb.equals("MAIL")) {
            capabilities = null;
            if (!recorded && settings.recordsSessionsWithoutTls()) {
                note(session, "transaction", PlaintextLogins.AUDITED, verb);
            }
        }
        return Verdict.ALLOW;
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
        report.record(session.rule().name(), client, "-", action, method, hello, session.verifiedName());
        log.info("event={}-without-tls action={} rule={} client={} command=\"{}\" hello={}", what, action,
                session.rule().name(), client, method, Logfmt.value(hello.isEmpty() ? "-" : hello));
    }
}
