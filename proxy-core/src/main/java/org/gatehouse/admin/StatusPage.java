package org.gatehouse.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.gatehouse.backend.BackendPool;
import org.gatehouse.backend.ServerState;
import org.gatehouse.gateway.Gateway;
import org.gatehouse.login.PlaintextLogins;
import org.gatehouse.metrics.RecentRefusals;
import org.gatehouse.rules.Rule;

/**
 * {@code GET /} on the admin endpoint: one small HTML page, no script and no external asset (the response forbids both),
 * for a person with a browser on the gateway's host: listeners and rules, backends up or down with their last check,
 * connections, recent refusals and the login report. Every value is HTML-escaped, the client's own words (EHLO names,
 * user names) first among them; the page refreshes itself every 15 seconds.
 */
public final class StatusPage {

    /** Sent with the page: nothing but its own inline style may load or run. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; "
            + "frame-ancestors 'none'; form-action 'none'; base-uri 'none'";

    /** Rows of the login report shown; the command prints the rest. */
    static final int REPORT_ROWS = 50;

    private static final String STYLE = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2125}"
            + "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}"
            + "table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #ccd;padding:.25em .6em;"
            + "text-align:left;vertical-align:top}th{background:#eef}td.n{text-align:right}"
            + ".up{color:#0a6b2d;font-weight:bold}.down{color:#b00020;font-weight:bold}.dim{color:#667}"
            + "code{font-size:.95em}";

    private StatusPage() {
    }

    /** The page as it is now. */
    public static String render(Gateway gateway, MeterRegistry registry, RecentRefusals refusals, Instant now) {
        StringBuilder html = new StringBuilder(16 * 1024);
        html.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta http-equiv=\"refresh\" content=\"15\"><title>Gatehouse status</title><style>")
                .append(STYLE).append("</style></head><body><h1>Gatehouse</h1><p>");
        String notReady = gateway.notReady().orElse(null);
        html.append(notReady == null
                ? "<span class=\"up\">ready</span>"
                : "<span class=\"down\">not ready</span>: " + escape(notReady));
        html.append(" &middot; rules file <code>").append(escape(gateway.snapshot().rules().source().toString()))
                .append("</code> &middot; ").append(escape(now.truncatedTo(ChronoUnit.SECONDS).toString()))
                .append("</p>");
        rules(html, gateway, registry);
        backends(html, gateway.pools());
        refusals(html, refusals.list());
        report(html, gateway.plaintextLogins().entries());
        return html.append("</body></html>\n").toString();
    }

    private static void rules(StringBuilder html, Gateway gateway, MeterRegistry registry) {
        Map<String, String> bound = gateway.listeners().stream().collect(Collectors.groupingBy(Gateway.Listener::rule,
                Collectors.mapping(l -> hostPort(l.address()), Collectors.joining(", "))));
        html.append("<h2>Listeners and rules</h2><table><tr><th>rule</th><th>listening on</th><th>protocol</th>"
                + "<th>tls</th><th>login</th><th>secureChannel</th><th>connections now</th><th>accepted</th></tr>");
        for (Rule r : gateway.snapshot().rules().rules()) {
            html.append("<tr><td>").append(escape(r.name())).append("</td><td>")
                    .append(r.enabled()
                            ? escape(bound.getOrDefault(r.name(), "not bound"))
                            : "<span class=\"dim\">disabled</span>")
                    .append("</td><td>").append(r.protocol().configName()).append("</td><td>")
                    .append(r.tls().mode().configName()).append("</td><td>")
                    .append(r.protocol().isMail() ? r.login().policy().configName() : "-").append("</td><td>")
                    .append(r.protocol().isMail() ? r.login().secureChannel().configName() : "-")
                    .append("</td><td class=\"n\">").append(gauge(registry, "gatehouse.connections.active", r.name()))
                    .append("</td><td class=\"n\">").append(counter(registry, r.name())).append("</td></tr>");
        }
        html.append("</table>");
    }

    private static void backends(StringBuilder html, Map<String, BackendPool> pools) {
        html.append("<h2>Backends</h2><table><tr><th>rule</th><th>server</th><th>state</th><th>last check</th>"
                + "<th>connections now</th></tr>");
        for (BackendPool pool : pools.values()) {
            boolean checked = pool.settings().healthCheck().isPresent();
            for (ServerState s : pool.servers()) {
                html.append("<tr><td>").append(escape(pool.rule())).append("</td><td>")
                        .append(escape(s.address().toString())).append("</td><td>")
                        .append(s.up() ? "<span class=\"up\">up</span>" : "<span class=\"down\">down</span>")
                        .append("</td><td>").append(checked
                                ? lastCheck(s)
                                : "<span class=\"dim\">no health "
                                        + "checks</span>")
                        .append("</td><td class=\"n\">").append(s.active()).append("</td></tr>");
            }
        }
        html.append("</table>");
    }

    private static String lastCheck(ServerState s) {
        return s.lastCheck().map(t -> escape(t.truncatedTo(ChronoUnit.SECONDS).toString())
                + (s.lastFailure().isEmpty() ? " ok" : " failed: " + escape(s.lastFailure())))
                .orElse("<span class=\"dim\">none yet</span>");
    }

    private static void refusals(StringBuilder html, List<RecentRefusals.Refusal> list) {
        html.append("<h2>Recent refusals</h2>");
        if (list.isEmpty()) {
            html.append("<p class=\"dim\">none since the start</p>");
            return;
        }
        html.append("<table><tr><th>time</th><th>rule</th><th>client</th><th>outcome</th><th>reason</th></tr>");
        for (RecentRefusals.Refusal r : list) {
            row(html, r.time().truncatedTo(ChronoUnit.SECONDS).toString(), r.rule(), r.client(), r.outcome(),
                    r.reason().isEmpty() ? "-" : r.reason());
        }
        html.append("</table>");
    }

    private static void report(StringBuilder html, List<PlaintextLogins.Entry> entries) {
        html.append("<h2>Login report</h2>");
        if (entries.isEmpty()) {
            html.append("<p class=\"dim\">no client without TLS recorded</p>");
            return;
        }
        html.append("<p>Clients that sent a password without TLS, left without STARTTLS, or moved mail without TLS "
                + "(<code>gatehouse plaintext-logins</code> prints all, with filters).</p><table><tr><th>last seen"
                + "</th><th>rule</th><th>client</th><th>name</th><th>hello</th><th>user</th><th>action</th>"
                + "<th>method</th><th>count</th></tr>");
        for (PlaintextLogins.Entry e : entries.subList(0, Math.min(REPORT_ROWS, entries.size()))) {
            row(html, e.lastSeen().truncatedTo(ChronoUnit.SECONDS).toString(), e.rule(), e.client(), dash(e.name()),
                    dash(e.hello()), e.user(), e.action(), e.method(), Long.toString(e.count()));
        }
        html.append("</table>");
        if (entries.size() > REPORT_ROWS) {
            html.append("<p class=\"dim\">").append(entries.size() - REPORT_ROWS).append(" more</p>");
        }
    }

    private static String dash(String s) {
        return s.isEmpty() ? "-" : s;
    }

    private static void row(StringBuilder html, String... cells) {
        html.append("<tr>");
        for (String c : cells) {
            html.append("<td>").append(escape(c)).append("</td>");
        }
        html.append("</tr>");
    }

    private static String gauge(MeterRegistry registry, String name, String rule) {
        Gauge g = registry.find(name).tag("rule", rule).gauge();
        return g == null ? "-" : Long.toString((long) g.value());
    }

    private static String counter(MeterRegistry registry, String rule) {
        Counter c = registry.find("gatehouse.connections.accepted").tag("rule", rule).counter();
        return c == null ? "-" : Long.toString((long) c.count());
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** HTML text and attribute escaping: the five characters that could end a text or a quoted attribute. */
    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
