package org.gatehouse.session;

/**
 * The names of the handlers in a client connection's pipeline, in order:
 *
 * <pre>
 *  client connection (frontend)                         backend connection
 *  ───────────────────────────────                      ──────────────────
 *  hangup         ends the connection at once when the     greeting-timeout  mail rules: the server
 *                 client hangs up while the gateway waits                    must greet within the
 *                 for it (PROXY header, access check, TLS                    pool's greetingTimeout;
 *                 handshake, a mail rule's backend), or on                   removes itself
 *                 a memory failure
 *  proxy-protocol reads the PROXY header of a trusted   relay             backend → client bytes
 *                 load balancer (rules with
 *                 acceptProxyProtocol); removes itself
 *  access-gate    decides before any TLS byte: access
 *                 lists, then limits; replaced on
 *                 admission by:
 *  idle-timeout   closes a connection idle both ways
 *  tls-alerts     during the handshake: notes a plaintext alert
 *                 the client sends (why it gave up); leaves
 *                 with the handshake
 *  tls            SslHandler (implicit TLS; with STARTTLS
 *                 the inspector adds it when asked)
 *  handshake      owns the handshake's outcome: records it,
 *                 closes on failure, passes Netty's event on
 *                 (the rest act on a success); removes itself
 *  mail-inspect   POP3/IMAP/SMTP only: STARTTLS,
 *                 capabilities, login policy; removes
 *                 itself once logged in (see MailInspector)
 *  pre-login      POP3/IMAP/SMTP only: until login, the
 *                 client holds one of the rule's pre-login
 *                 backend connections and is shed when it
 *                 passes nothing for the pre-login idle
 *                 timeout; removes itself at login
 *  backend-connect  waits for the handshake, connects
 *                 a backend from the rule's pool (and
 *                 sends its PROXY header); replaced by:
 *  relay          client → backend bytes
 * </pre>
 *
 * A connection that is denied never gets past {@code access-gate}: it costs one accept and one close.
 */
public final class PipelineNames {

    public static final String HANGUP = "hangup";
    public static final String PROXY_PROTOCOL = "proxy-protocol";
    public static final String ACCESS_GATE = "access-gate";
    public static final String IDLE_TIMEOUT = "idle-timeout";
    public static final String TLS_ALERTS = "tls-alerts";
    public static final String TLS = "tls";
    public static final String HANDSHAKE = "handshake";
    public static final String INSPECT = "mail-inspect";
    /** Before mail-inspect once a failed login's reply is held (account protection's tarpit). */
    public static final String TARPIT = "tarpit";
    public static final String PRE_LOGIN = "pre-login";
    public static final String BACKEND_CONNECT = "backend-connect";
    public static final String RELAY = "relay";
    /** On the backend connection of a mail rule, before the relay. */
    public static final String GREETING_TIMEOUT = "greeting-timeout";
    /** On the backend connection of a mail rule with clientIdentity xclient or imap-id, before the relay. */
    public static final String CLIENT_IDENTITY = "client-identity";

    private PipelineNames() {
    }
}
