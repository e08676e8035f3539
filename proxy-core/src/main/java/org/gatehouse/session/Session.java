package org.gatehouse.session;

import static java.util.Objects.requireNonNull;

import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.gatehouse.dns.ClientName;
import org.gatehouse.dns.ReverseDns;
import org.gatehouse.log.AccessLog;
import org.gatehouse.log.LogText;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.ServiceSettings.AccessLogFormat;

/**
 * The state of one client connection that the access log reports when it ends. Written only from the connection's
 * event loop (the backend channel shares it), so it needs no locking.
 */
public final class Session {

    private final Rule rule;
    private InetSocketAddress client;
    private final GatewayMetrics.RuleMeters meters;
    private final long startNanos = System.nanoTime();
    private long tlsStartNanos = startNanos;

    private Outcome outcome = Outcome.OPEN;
    private String reason = "";
    private String tlsProtocol = "";
    private String tlsCipher = "";
    private String sni = "";
    private String clientCertificate = "";
    private String backend = "";
    private String login = "";
    private String user = "";
    private ClientName clientName;
    private long bytesFromClient;
    private long bytesToClient;
    private boolean ended;
    private final AccessLog accessLog;

    /** A session whose access line is logfmt. */
    public Session(Rule rule, InetSocketAddress client, GatewayMetrics.RuleMeters meters) {
        this(rule, client, meters, AccessLog.of(AccessLogFormat.LOGFMT));
    }

    /** @param accessLog where its line goes when it ends, in the format of the rules it was accepted under */
    public Session(Rule rule, InetSocketAddress client, GatewayMetrics.RuleMeters meters, AccessLog accessLog) {
        this.rule = requireNonNull(rule, "rule");
        this.client = requireNonNull(client, "client");
        this.meters = requireNonNull(meters, "meters");
        this.accessLog = requireNonNull(accessLog, "accessLog");
    }

    /** How a connection ended; {@link #label()} is the word in the access log. */
    public enum Outcome {
        OPEN("open"),
        /** Relayed and closed by either side. */
        CLOSED("closed"),
        /** Refused by the access gate. */
        DENIED("denied"),
        /** Refused for being over one of the rule's limits. */
        LIMITED("limited"),
        /** Closed after passing no byte either way for the idle timeout. */
        IDLE("idle-timeout"),
        /** The TLS handshake failed or timed out. */
        TLS_FAILED("tls-failed"),
        /** No backend server accepted the connection. */
        BACKEND_UNAVAILABLE("backend-unavailable"),
        /** The client broke its protocol in a way the gateway will not relay (STARTTLS injection, over-long line). */
        PROTOCOL_ERROR("protocol-error"),
        /** An unexpected failure on the connection. */
        ERROR("error");

        private final String label;

        Outcome(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    public Rule rule() {
        return rule;
    }

    /**
     * Whether the gateway tells the server the client's address in the protocol ({@code clientIdentity: xclient} or
     * {@code imap-id}): the server trusts the gateway's connection for it, so the client's own XCLIENT, XFORWARD or
     * ID fields are never passed on, and the server's offer of them never shown.
     */
    public boolean identityByGateway() {
        return rule.backend().clientIdentity().inBand();
    }

    /** The client: the TCP peer, or the address a trusted load balancer's PROXY header named. */
    public InetSocketAddress client() {
        return client;
    }

    /** The client as a trusted PROXY protocol header names it; set before the access gate decides. */
    public void proxiedClient(InetSocketAddress client) {
        this.client = requireNonNull(client, "client");
    }

    /** Marks the start of the TLS handshake (implicit TLS once admitted, or after STARTTLS). */
    public void tlsStarting() {
        tlsStartNanos = System.nanoTime();
    }

    /** When the TLS handshake started ({@link System#nanoTime()}), for its duration. */
    public long tlsStartNanos() {
        return tlsStartNanos;
    }

    public GatewayMetrics.RuleMeters meters() {
        return meters;
    }

    /** Records the first non-open outcome; later ones (the close that follows a failure) do not overwrite it. */
    public void outcome(Outcome outcome, String reason) {
        if (this.outcome == Outcome.OPEN) {
            this.outcome = outcome;
            this.reason = reason;
        }
    }

    /** The negotiated TLS version and cipher, and the name the client asked for by SNI ("" if none; escaped here). */
    public void tls(String protocol, String cipher, String sni) {
        this.tlsProtocol = protocol;
        this.tlsCipher = cipher;
        this.sni = LogText.clean(sni);
    }

    /** Whether the connection is encrypted: a TLS handshake completed (implicit, or after STARTTLS). */
    public boolean encrypted() {
        return !tlsProtocol.isEmpty();
    }

    String tlsProtocol() {
        return tlsProtocol;
    }

    String tlsCipher() {
        return tlsCipher;
    }

    String sni() {
        return sni;
    }

    /** The verified subject of the client's TLS certificate (escaped here: its issuer let the client choose it). */
    public void clientCertificate(String subject) {
        this.clientCertificate = LogText.clean(subject);
    }

    String clientCertificate() {
        return clientCertificate;
    }

    String backend() {
        return backend;
    }

    public void backend(String backend) {
        this.backend = backend;
    }

    /**
     * A clear-text login the policy refused or audited; the last one is what the access log shows. {@code user} is
     * escaped already ({@link LogText}).
     */
    public void login(String action, String user) {
        this.login = action;
        this.user = user;
    }

    /** What reverse DNS said about the client, for a rule whose access lists name domains. */
    public void clientName(ClientName name) {
        this.clientName = name;
    }

    /**
     * The client's verified reverse-DNS name (its PTR name whose forward records point back), or empty when none is
     * known: the access gate asks DNS only for a rule whose access lists name domains.
     */
    public String verifiedName() {
        return clientName == null ? "" : clientName.verifiedNames().stream().findFirst().orElse("");
    }

    /** The reverse-DNS answer, if the access gate asked for one. */
    public Optional<ClientName> clientName() {
        return Optional.ofNullable(clientName);
    }

    String loginAction() {
        return login;
    }

    String user() {
        return user;
    }

    public void fromClient(long bytes) {
        bytesFromClient += bytes;
    }

    public void toClient(long bytes) {
        bytesToClient += bytes;
    }

    public long bytesFromClient() {
        return bytesFromClient;
    }

    public long bytesToClient() {
        return bytesToClient;
    }

    /** Ends the session once: counts its bytes and writes its access-log line. */
    public void end() {
        if (ended) {
            return;
        }
        ended = true;
        if (outcome == Outcome.OPEN) {
            outcome = Outcome.CLOSED;
        }
        long nanos = System.nanoTime() - startNanos;
        meters.relayed(bytesFromClient, bytesToClient);
        meters.sessionEnded(nanos);
        if (outcome != Outcome.CLOSED && outcome != Outcome.IDLE) {
            meters.refusedRecently(NetUtil.toAddressString(client.getAddress()), outcome.label(), reason);
        }
        if (AccessLog.enabled()) {
            accessLog.write(accessLine(nanos / 1_000_000));
        }
    }

    /** The fields of the access line, in the order an administrator reads them. */
    private Map<String, Object> accessLine(long durationMillis) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("rule", rule.name());
        fields.put("client", NetUtil.toAddressString(client.getAddress()));
        fields.put("client_port", client.getPort());
        if (clientName != null) {
            fields.put("rdns", clientName.result());
            fields.put("name", LogText.clean(ReverseDns.describe(clientName)));
        }
        fields.put("tls", dash(tlsProtocol));
        fields.put("cipher", dash(tlsCipher));
        fields.put("sni", dash(sni));
        if (!clientCertificate.isEmpty()) {
            fields.put("client_cert", clientCertificate);
        }
        fields.put("backend", dash(backend));
        if (!login.isEmpty()) {
            fields.put("login", login);
            fields.put("user", user);
        }
        fields.put("bytes_in", bytesFromClient);
        fields.put("bytes_out", bytesToClient);
        fields.put("duration_ms", durationMillis);
        fields.put("outcome", outcome.label());
        if (!reason.isEmpty()) {
            fields.put("reason", reason);
        }
        return fields;
    }

    private static String dash(String value) {
        return value.isEmpty() ? "-" : value;
    }
}
