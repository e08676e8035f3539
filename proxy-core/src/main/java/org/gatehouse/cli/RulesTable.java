package org.gatehouse.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.LoginPolicy;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.Rule;

/** The effective rules as a plain-text table, one line per rule. */
final class RulesTable {

    private static final String[] HEADER = {"RULE", "LISTEN", "PROTOCOL", "TLS", "LOGIN", "BACKEND", "LIMITS",
            "ACCESS"};

    private RulesTable() {
    }

    static void print(PublishingRules rules, PrintWriter out) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADER);
        for (Rule r : rules.rules()) {
            rows.add(new String[]{
                    r.name() + (r.enabled() ? "" : " (disabled)"),
                    join(r.listen()),
                    r.protocol().configName(),
                    r.tls().mode().configName()
                            + (r.tls().enabled() ? " (" + String.join(", ", r.tls().certificates()) + ")" : ""),
                    login(r),
                    backend(r),
                    limits(r),
                    access(r.access()) + r.acceptProxyProtocol().map(from -> "; PROXY header from "
                            + String.join(", ", from.entries())).orElse("")});
        }
        int[] widths = new int[HEADER.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + (widths[i] + 2) + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
        out.flush();
    }

    /** The login policy as written in the file; "-" for tcp, which has none. */
    private static String login(Rule r) {
        if (!r.protocol().isMail()) {
            return "-";
        }
        boolean challengeOff = !r.login().challengeResponseWithoutTls()
                && r.login().policy() != LoginPolicy.PLAINTEXT_ALLOWED;
        return r.login().policy().configName() + (challengeOff ? " (no challenge-response)" : "");
    }

    /** The servers, with how they are balanced and checked when that is not the short form's default. */
    private static String backend(Rule r) {
        Backend b = r.backend();
        StringBuilder out = new StringBuilder();
        if (b.balance() != Backend.Balance.FIRST) {
            out.append(b.balance().configName()).append(": ");
        }
        out.append(join(b.servers()));
        b.healthCheck().ifPresent(h -> out.append(" (checked every ").append(h.interval().toSeconds()).append(" s)"));
        if (r.protocol().isMail()) {
            out.append(" (greeting ").append(seconds(b.greetingTimeout())).append(")");
        }
        if (b.sendProxyProtocol() != Backend.ProxyProtocol.OFF) {
            out.append(" +PROXY ").append(b.sendProxyProtocol().configName());
        }
        return out.toString();
    }

    /**
     * The connection limits that bound the rule: connections at once (and per client, per period, when set), and for
     * mail rules the backend connections of clients not logged in yet with their idle timeout.
     */
    private static String limits(Rule r) {
        Limits l = r.limits();
        StringBuilder out = new StringBuilder(l.maxConnections() == 0 ? "no max" : "max " + l.maxConnections());
        if (l.maxConnectionsPerClient() > 0) {
            out.append(", ").append(l.maxConnectionsPerClient()).append("/client");
        }
        l.connectionRatePerClient().ifPresent(rate -> out.append(", ").append(rate).append(" per client"));
        if (r.protocol().isMail()) {
            out.append(", pre-login ").append(l.maxPreLoginConnections() == 0 ? "no max" : l.maxPreLoginConnections())
                    .append(l.preLoginIdleTimeoutIfSet().map(d -> " idle " + seconds(d)).orElse(""));
        }
        return out.toString();
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static String join(List<HostPort> addresses) {
        return String.join(", ", addresses.stream().map(HostPort::toString).toList());
    }

    /** One line on how domain entries are checked, for files whose rules use them. */
    static String dns(DnsSettings dns) {
        String servers = dns.servers().isEmpty()
                ? "the system's (/etc/resolv.conf)"
                : String.join(", ", dns.servers().stream().map(HostPort::toString).toList());
        return "Domains are checked by forward-confirmed reverse DNS: resolvers " + servers + ", timeout "
                + dns.timeout().toMillis() + " ms, on failure " + dns.onFailure().configName() + ".";
    }

    static String access(Access access) {
        String allow = access.allowAll() ? "allow any" : "allow " + String.join(", ", access.allow().entries());
        return access.deny().isEmpty() ? allow : allow + "; deny " + String.join(", ", access.deny().entries());
    }
}
