package org.gatehouse.mail.reference;

import java.util.List;

/**
 * A small model of how a real mail server reads the bytes it receives: where its lines end, how it cuts a line into a
 * command, and so what it takes for a login or for the end of a message. The fuzz tests put one behind an inspector and
 * ask it what got through; {@code interop/} checks the models against the real Postfix and Dovecot.
 */
public interface ReferenceServer {

    /** A login the server read: the command, the mechanism as it read it, and whether a password went with it. */
    record Login(String command, String mechanism, boolean secret) {
    }

    String name();

    /** What the server says when a client connects. */
    String greeting();

    /** The server reads {@code bytes}; returns what it answers to them (empty when it waits for more). */
    String receive(byte[] bytes);

    /** Every login the server read, in order. */
    List<Login> logins();

    /** The commands the server read, in order, as it read them (verb in upper case, then its arguments). */
    List<String> commands();

    /** Messages the server took (SMTP: DATA ended, or BDAT LAST). */
    int messages();

    /** Whether the server ended the session (QUIT, LOGOUT, or a line it could not take). */
    boolean closed();
}
