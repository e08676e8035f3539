package org.gatehouse.demo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The demo user's messages (CRLF line endings, not dot-stuffed) and credentials. */
public final class DemoMailbox {

    public static final String USER = "demo";
    public static final String PASSWORD = "demo-password";

    private final List<byte[]> messages = new CopyOnWriteArrayList<>();

    public DemoMailbox() {
        add(("From: Gatehouse <gatehouse@demo.test>\r\nTo: demo@demo.test\r\nSubject: Welcome to the Gatehouse demo\r\n\r\n"
                + "This message came from the in-memory demo server, through the gateway, over TLS.\r\n"
                + "Send another with SMTPS and read it here.\r\n").getBytes(StandardCharsets.US_ASCII));
    }

    public void add(byte[] message) {
        messages.add(message.clone());
    }

    /** A snapshot of the messages, oldest first. */
    public List<byte[]> messages() {
        return new ArrayList<>(messages);
    }

    static boolean valid(String user, String password) {
        return USER.equals(user) && PASSWORD.equals(password);
    }

    /** Checks a SASL PLAIN response (authzid NUL authcid NUL password, in base64). */
    static boolean validPlain(String base64) {
        try {
            String[] parts = new String(Base64.getDecoder().decode(base64.trim()), StandardCharsets.UTF_8).split("\0",
                    -1);
            return parts.length == 3 && valid(parts[1], parts[2]);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static String decodeBase64(String text) {
        try {
            return new String(Base64.getDecoder().decode(text.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return "";
        }
    }
}
