package org.gatehouse.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.gatehouse.login.PlaintextLogins.Entry;

/**
 * The audit report printed three ways: a table for a person, CSV for a spreadsheet, JSON (one array) for a script.
 * Every field is the report's own, escaped when recorded; CSV also defuses cells a spreadsheet would run as a formula,
 * since a client's EHLO name is its own choice.
 */
final class ReportLines {

    /** The output formats of {@code gatehouse plaintext-logins --format}. */
    enum Format {
        TABLE,
        CSV,
        JSON
    }

    private static final List<String> COLUMNS = List.of("last_seen", "rule", "client", "name", "hello", "user",
            "action", "method", "count", "first_seen");
    private static final JsonFactory JSON = new JsonFactory();

    private ReportLines() {
    }

    static void print(Format format, List<Entry> entries, PrintWriter out) {
        switch (format) {
            case TABLE -> table(entries, out);
            case CSV -> csv(entries, out);
            case JSON -> json(entries, out);
        }
        out.flush();
    }

    private static List<String> fields(Entry e) {
        return List.of(e.lastSeen().truncatedTo(ChronoUnit.SECONDS).toString(), e.rule(), e.client(),
                dash(e.name()), dash(e.hello()), e.user(), e.action(), e.method(), Long.toString(e.count()),
                e.firstSeen().truncatedTo(ChronoUnit.SECONDS).toString());
    }

    private static String dash(String s) {
        return s.isEmpty() ? "-" : s;
    }

    private static void table(List<Entry> entries, PrintWriter out) {
        String format = "%-20s  %-12s  %-15s  %-24s  %-24s  %-16s  %-8s  %-24s  %5s  %-20s%n";
        out.printf(format, COLUMNS.stream().map(c -> c.replace('_', ' ').toUpperCase()).toArray());
        for (Entry e : entries) {
            out.printf(format, fields(e).toArray());
        }
    }

    private static void csv(List<Entry> entries, PrintWriter out) {
        out.print(String.join(",", COLUMNS) + "\r\n");
        for (Entry e : entries) {
            out.print(String.join(",", fields(e).stream().map(ReportLines::cell).toList()) + "\r\n");
        }
    }

    /** RFC 4180 quoting; a cell a spreadsheet would read as a formula gets a leading apostrophe. */
    static String cell(String value) {
        String v = value.length() > 1 && "=+-@".indexOf(value.charAt(0)) >= 0 ? "'" + value : value;
        if (v.indexOf(',') < 0 && v.indexOf('"') < 0 && v.indexOf('\n') < 0 && v.indexOf('\r') < 0) {
            return v;
        }
        return '"' + v.replace("\"", "\"\"") + '"';
    }

    private static void json(List<Entry> entries, PrintWriter out) {
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            json.writeStartArray();
            for (Entry e : entries) {
                json.writeStartObject();
                json.writeStringField("rule", e.rule());
                json.writeStringField("client", e.client());
                json.writeStringField("name", e.name());
                json.writeStringField("hello", e.hello());
                json.writeStringField("user", e.user());
                json.writeStringField("action", e.action());
                json.writeStringField("method", e.method());
                json.writeNumberField("count", e.count());
                json.writeStringField("first_seen", e.firstSeen().toString());
                json.writeStringField("last_seen", e.lastSeen().toString());
                json.writeEndObject();
            }
            json.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.println();
    }
}
