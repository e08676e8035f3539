package org.gatehouse.gateway;

/** The gateway could not start as the rules say (a listener could not be bound); nothing is left running. */
public final class GatewayException extends Exception {

    private static final long serialVersionUID = 1L;

    public GatewayException(String message, Throwable cause) {
        super(message, cause);
    }
}
