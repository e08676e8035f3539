package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One publishing rule: the addresses it listens on, the clients it admits, how it speaks TLS, and the plaintext
 * servers it relays to.
 *
 * @param login               the login policy; only mail protocols apply it
 * @param smtp                how an SMTP rule reads message bodies; the defaults on other protocols
 * @param backend             the plaintext servers and how they are used
 * @param limits              connection limits and timeouts
 * @param acceptProxyProtocol the load balancers whose PROXY protocol header names the client; empty: no header is
 *                            read, the TCP peer is the client
 * @param position            where the rule starts in the file
 */
public record Rule(
        String name,
        boolean enabled,
        List<HostPort> listen,
        Protocol protocol,
        TlsSettings tls,
        LoginSettings login,
        SmtpSettings smtp,
        Backend backend,
        Access access,
        Limits limits,
        Optional<ClientList> acceptProxyProtocol,
        SourcePosition position) {

    /** Rule names appear in logs and as a metric label: keep them plain. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,62}");

    /** Whether {@code other} publishes the same thing in the same way, wherever in the file it was written. */
    public boolean sameSettings(Rule other) {
        return equals(new Rule(other.name, other.enabled, other.listen, other.protocol, other.tls, other.login,
                other.smtp, other.backend, other.access, other.limits, other.acceptProxyProtocol, position));
    }

    /** The same rule relaying to {@code servers}, with its other backend settings. */
    public Rule withBackendServers(List<HostPort> servers) {
        return new Rule(name, enabled, listen, protocol, tls, login, smtp, backend.withServers(servers), access,
                limits, acceptProxyProtocol, position);
    }

    /** The backend servers, in the order written. */
    public List<HostPort> backends() {
        return backend.servers();
    }

    public Rule {
        requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("rule name \"" + name + "\" (expected: " + NAME.pattern() + ")");
        }
        listen = List.copyOf(listen);
        requireNonNull(protocol, "protocol");
        requireNonNull(tls, "tls");
        requireNonNull(login, "login");
        requireNonNull(smtp, "smtp");
        if (tls.mode() == TlsMode.STARTTLS && !protocol.isMail()) {
            throw new IllegalArgumentException("rule " + name + ": tcp has no STARTTLS");
        }
        requireNonNull(backend, "backend");
        requireNonNull(access, "access");
        requireNonNull(limits, "limits");
        requireNonNull(acceptProxyProtocol, "acceptProxyProtocol");
        requireNonNull(position, "position");
        if (listen.isEmpty()) {
            throw new IllegalArgumentException("rule " + name + " listens nowhere");
        }
    }
}
