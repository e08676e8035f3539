package org.gatehouse.session;

/**
 * Fired down the client pipeline by the mail inspector, once, when the session is past its login: the server accepted
 * a login (or greeted with PREAUTH), or an SMTP client started a mail transaction (MAIL), which is as far as a relay
 * that takes mail without a login (port 25) gets. Handlers that care about the time before a login react to it.
 */
public enum LoggedIn {
    INSTANCE
}
