package org.gatehouse.mail;

import java.util.Locale;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.gatehouse.login.LoginGuard;
import org.gatehouse.login.Sasl;
import org.gatehouse.session.Session;

/**
 * The SASL exchange of one session (SMTP and POP3 AUTH, IMAP AUTHENTICATE) as the inspector sees it: the login policy
 * applied to its start and recorded, whose turn it is (a response passes only after the server's challenge), the user
 * named by an audited exchange's first response, and a response pipelined behind a refused start.
 */
final class SaslExchange {

    private final Session session;
    private final LoginGuard guard;
    private final BooleanSupplier tlsActive;
    private final LoginAttempts attempts;

    /** The SASL command of the exchange under way or last refused (AUTH, AUTHENTICATE, X-EXPS). */
    private String command = "";
    /** The mechanism of an audited exchange whose user name comes with the first response. */
    private String auditAtFirstResponse;
    /** A refused start had no initial response: the client may have pipelined one, which is never forwarded. */
    private boolean strayResponsePossible;
    /** An exchange is forwarded and not over. */
    private boolean underWay;
    /** The server's last word in the exchange was a challenge, not yet answered. */
    private boolean clientsTurn;
    /** The mechanism of the exchange under way, for account protection. */
    private String mechanism = "";
    /** Responses the client sent in the exchange under way. */
    private int responses;
    /** Account protection let the exchange start (it is asked again when the first response names the user). */
    private boolean admitted = true;

    SaslExchange(Session session, LoginGuard guard, BooleanSupplier tlsActive, LoginAttempts attempts) {
        this.session = session;
        this.guard = guard;
        this.tlsActive = tlsActive;
        this.attempts = attempts;
    }

    /**
     * Applies the login policy to a SASL start and records it. A refusal without an initial response arms the check for
     * a pipelined response ({@link #isStrayResponse}); an audited PLAIN or LOGIN without one is recorded at the first
     * response ({@link #response}), which names the user; any other at once. The caller answers or forwards according
     * to the verdict.
     *
     * @param saslCommand AUTH, AUTHENTICATE or X-EXPS, for the record
     * @param mechanism   upper case
     * @param initial     the initial response, or null
     */
    LoginGuard.Verdict start(String saslCommand, String mechanism, String initial) {
        command = saslCommand;
        auditAtFirstResponse = null;
        LoginGuard.Verdict verdict = guard.judge(tlsActive.getAsBoolean(), Sasl.sendsSecret(mechanism));
        if (verdict == LoginGuard.Verdict.REFUSE) {
            strayResponsePossible = initial == null;
        }
        boolean userComesNext = initial == null && (mechanism.equals("PLAIN") || mechanism.equals("LOGIN"));
        if (verdict != LoginGuard.Verdict.AUDIT || !userComesNext) {
            guard.record(session, verdict, Sasl.method(saslCommand, mechanism),
                    initial == null ? "" : Sasl.userIn(mechanism, initial));
        } else {
            auditAtFirstResponse = mechanism;
        }
        this.mechanism = mechanism;
        responses = initial == null ? 0 : 1;
        admitted = verdict == LoginGuard.Verdict.REFUSE || userComesNext || attempt(initial);
        return verdict;
    }

    /**
     * Whether account protection lets the exchange just started go on. False: the caller answers with
     * {@link MailInspector#refuseLogin}, and nothing of the exchange is forwarded.
     */
    boolean admitted() {
        return admitted;
    }

    /** Begins account protection's attempt once the user is known: in the initial or the first response. */
    private boolean attempt(String firstResponse) {
        String user = firstResponse == null ? "" : Sasl.userIn(mechanism, firstResponse);
        if (!attempts.begin(user, Sasl.method(command, mechanism))) {
            return false;
        }
        if (firstResponse != null && mechanism.equals("PLAIN")) {
            attempts.password(Sasl.plainPassword(firstResponse));
        }
        return true;
    }

    /** An exchange was forwarded: client lines are its responses, each one only after the server's challenge. */
    void forwarded() {
        underWay = true;
        clientsTurn = false;
    }

    /** Whether a forwarded exchange is under way. */
    boolean underWay() {
        return underWay;
    }

    /**
     * Whether the client may send a response now: only after a challenge. A line sent before it is held until the
     * server answers, since a server that refuses the mechanism reads that line as its next command.
     */
    boolean clientsTurn() {
        return clientsTurn;
    }

    /** The server sent a challenge: the client's next line is the response. */
    void challenged() {
        clientsTurn = true;
    }

    /**
     * A client line of a forwarded exchange: the first one of an audited exchange names the user. False when account
     * protection refuses the login it names: then it is not forwarded ({@link MailInspector#refuseLogin}).
     */
    boolean response(String line) {
        clientsTurn = false;
        responses++;
        boolean plainOrLogin = mechanism.equals("PLAIN") || mechanism.equals("LOGIN");
        if (responses == 1 && plainOrLogin && !attempt(line.strip())) {
            return false;
        }
        if (responses == 2 && mechanism.equals("LOGIN")) {
            attempts.password(Sasl.decoded(line.strip()));
        }
        if (auditAtFirstResponse != null) {
            String mechanism = auditAtFirstResponse;
            auditAtFirstResponse = null;
            guard.record(session, LoginGuard.Verdict.AUDIT, Sasl.method(command, mechanism),
                    Sasl.userIn(mechanism, line));
        }
        return true;
    }

    /**
     * The forwarded exchange is over: client lines are commands again. An audited PLAIN or LOGIN that ended before its
     * first response is recorded now, with no user: the client tried a clear-text mechanism, and a server may have
     * read as an initial response what the gateway read as spacing (a form feed after the mechanism; found by fuzzing).
     */
    void ended() {
        if (auditAtFirstResponse != null) {
            guard.record(session, LoginGuard.Verdict.AUDIT, Sasl.method(command, auditAtFirstResponse), "");
        }
        auditAtFirstResponse = null;
        underWay = false;
        clientsTurn = false;
    }

    /** A start was refused without being read as one (a look-alike verb): a pipelined response may follow. */
    void refusedWithoutStart(boolean responseMayFollow) {
        strayResponsePossible = responseMayFollow;
    }

    /** STARTTLS: nothing said before TLS carries over. */
    void reset() {
        strayResponsePossible = false;
        underWay = false;
        clientsTurn = false;
    }

    /**
     * Whether {@code line}, the first after a refused start, is the response the client pipelined behind it. A bare
     * command of the protocol is never taken for one. Asked once per refused start.
     */
    boolean isStrayResponse(String line, Set<String> bareCommands) {
        if (!strayResponsePossible) {
            return false;
        }
        strayResponsePossible = false;
        String trimmed = line.strip();
        return Sasl.looksLikeResponse(trimmed) && !bareCommands.contains(trimmed.toUpperCase(Locale.ROOT));
    }

    /** The command of the exchange last started, for messages. */
    String command() {
        return command;
    }
}
