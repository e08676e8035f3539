package org.gatehouse.protection;

/**
 * What to do with the backend's reply to a login: hold it {@code delayMillis} (the tarpit), and close the connection
 * after it when the client's address is now blocked.
 */
public record Settlement(long delayMillis, boolean close) {

    public static final Settlement NOW = new Settlement(0, false);
}
