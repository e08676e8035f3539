package org.gatehouse.protection;

import java.util.Arrays;
import org.gatehouse.rules.ProtectionSettings;

/**
 * One login on its way to the backend: {@link #refused()} when the gateway answers it itself, else settled once with
 * the backend's reply. The password, when the inspector hands it over, is held only until then, to fingerprint a
 * failure, and zeroed.
 */
public final class Attempt {

    enum Kind {
        /** Not counted: protection off. */
        UNTRACKED,
        /** Refused by the gateway. */
        REFUSED,
        /** From an exempt client: recorded, never counted. */
        EXEMPT,
        /** From an address the user logged in from, or without a user name. */
        FAMILIAR,
        /** From an address the user never logged in from: holds one of its unfamiliar attempts. */
        UNFAMILIAR
    }

    static final Attempt UNTRACKED = new Attempt(null, null, "", "", "", "", "", Kind.UNTRACKED);

    final AccountGuard guard;
    final ProtectionSettings settings;
    final String rule;
    final String address;
    final String network;
    final String user;
    final String method;
    final Kind kind;
    private String refusal = "";
    private byte[] password;
    private boolean settled;

    Attempt(AccountGuard guard, ProtectionSettings settings, String rule, String address, String network, String user,
            String method, Kind kind) {
        this.guard = guard;
        this.settings = settings;
        this.rule = rule;
        this.address = address;
        this.network = network;
        this.user = user;
        this.method = method;
        this.kind = kind;
    }

    /** No attempt: account protection is off. */
    public static Attempt none() {
        return UNTRACKED;
    }

    static Attempt refused(String reason) {
        Attempt a = new Attempt(null, null, "", "", "", "", "", Kind.REFUSED);
        a.refusal = reason;
        a.settled = true;
        return a;
    }

    /** Whether the gateway refuses this login: answer it with the protocol's temporary error and close. */
    public boolean refused() {
        return kind == Kind.REFUSED;
    }

    /** Why: address-blocked, user-blocked or store-unavailable. */
    public String refusal() {
        return refusal;
    }

    /** Whether a result is expected: the attempt is counted. */
    public boolean tracked() {
        return kind != Kind.UNTRACKED && kind != Kind.REFUSED && !settled;
    }

    /** The password tried (copied; the caller zeroes its own), for the fingerprint of a failure. */
    public void password(byte[] secret) {
        if (!tracked() || secret == null) {
            return;
        }
        discardPassword();
        password = secret.clone();
    }

    /** The backend's reply says {@code result}: counted once; what to do with the reply. */
    public Settlement settle(LoginResult result) {
        if (!tracked()) {
            return Settlement.NOW;
        }
        settled = true;
        try {
            return guard.settle(this, result, password);
        } finally {
            discardPassword();
        }
    }

    /** The connection ended before the reply: an unfamiliar attempt's place is given back, the password zeroed. */
    public void discard() {
        if (tracked()) {
            settled = true;
            if (kind == Kind.UNFAMILIAR) {
                guard.state().release(user);
            }
        }
        discardPassword();
    }

    private void discardPassword() {
        if (password != null) {
            Arrays.fill(password, (byte) 0);
            password = null;
        }
    }
}
