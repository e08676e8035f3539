package org.gatehouse.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.login.PlaintextLogins;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.IpLiteral;
import org.gatehouse.tls.TlsContexts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code gatehouse plaintext-logins}: the audit report. Which clients logged in (audit) or tried to (secure-only) with
 * a clear-text password, which looked at the capabilities without TLS and left, which moved mail without TLS; as whom,
 * by which name, how often and when last: the list of whom to call before enforcing secure-only or secureChannel.
 */
@Command(name = "plaintext-logins", mixinStandardHelpOptions = true, description = {
        "List the clients that sent a password without TLS, left without STARTTLS after the capability list, or "
                + "moved mail without TLS: rule, client address, verified DNS name, EHLO/ID name, user, action "
                + "(refused, audited, left), method, count, first and last seen (newest first).",
        "Reads the report the running gateway saves in the rules file's stateDir every 10 seconds."})
final class PlaintextLoginsCommand implements Callable<Integer> {

    @Mixin
    RulesOption rules;

    @Spec
    CommandSpec spec;

    @Option(names = "--rule", paramLabel = "NAME", description = "Only this rule's entries.")
    String rule;

    @Option(names = "--client", paramLabel = "ADDRESS", description = "Only clients in this address or block "
            + "(192.0.2.7, 10.0.0.0/8, 2001:db8::/32).")
    String client;

    @Option(names = "--action", paramLabel = "ACTION", description = "Only entries with this action: refused, "
            + "audited or left.")
    String action;

    @Option(names = "--since", paramLabel = "DURATION", description = "Only entries seen within this long "
            + "(ISO-8601 such as P7D or PT12H, or 7d, 12h, 30m).")
    String since;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "table", description = "table (default), "
            + "csv or json.")
    String format;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Predicate<PlaintextLogins.Entry> filter;
        ReportLines.Format chosen;
        try {
            filter = filter(Instant.now());
            chosen = ReportLines.Format.valueOf(format.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage().startsWith("No enum constant")
                    ? "--format " + format + " is not a format (table, csv or json)"
                    : e.getMessage());
        }
        RulesSnapshot snapshot = rules.load(TlsContexts.Mode.CHECK, err);
        if (snapshot == null) {
            return Main.EXIT_INVALID_RULES;
        }
        snapshot.tls().release(); // only the state folder is wanted
        Path file = snapshot.rules().stateDir().resolve(PlaintextLogins.FILE_NAME);
        List<PlaintextLogins.Entry> entries;
        try {
            entries = PlaintextLogins.read(file).stream().filter(filter).toList();
        } catch (IOException | RuntimeException e) {
            err.println(file + ": cannot read the report: " + e.getMessage());
            err.flush();
            return Main.EXIT_INVALID_RULES;
        }
        if (entries.isEmpty() && chosen == ReportLines.Format.TABLE) {
            out.println("No plaintext logins" + (filtered() ? " that match" : "") + " recorded in " + file + ".");
            out.flush();
            return 0;
        }
        ReportLines.print(chosen, entries, out);
        if (chosen == ReportLines.Format.TABLE) {
            out.println();
            out.println(entries.size() + " entries from " + file);
            out.flush();
        }
        return 0;
    }

    private boolean filtered() {
        return rule != null || client != null || action != null || since != null;
    }

    /** The filters as one predicate; an option that cannot be read throws with what was expected. */
    Predicate<PlaintextLogins.Entry> filter(Instant now) {
        Predicate<PlaintextLogins.Entry> p = e -> true;
        if (rule != null) {
            p = p.and(e -> e.rule().equals(rule));
        }
        if (action != null) {
            if (!Set.of(PlaintextLogins.REFUSED, PlaintextLogins.AUDITED, PlaintextLogins.LEFT).contains(action)) {
                throw new IllegalArgumentException("--action " + action + " is not an action");
            }
            p = p.and(e -> e.action().equals(action));
        }
        if (client != null) {
            AddressSet block;
            try {
                block = AddressSet.of(List.of(AddressBlock.parse(client)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--client: " + e.getMessage());
            }
            p = p.and(e -> IpLiteral.parse(e.client()).map(block::contains).orElse(false));
        }
        if (since != null) {
            Instant from = now.minus(duration(since));
            p = p.and(e -> !e.lastSeen().isBefore(from));
        }
        return p;
    }

    static Duration duration(String text) {
        Matcher m = Pattern.compile("(\\d{1,6})([dhm])").matcher(text);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "d" -> Duration.ofDays(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofMinutes(n);
            };
        }
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--since " + text + " is not a duration (7d, 12h, 30m, P7D, PT12H)");
        }
    }
}
