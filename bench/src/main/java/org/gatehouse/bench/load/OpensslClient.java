package org.gatehouse.bench.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The load client most mail clients resemble: OpenSSL 3 through Python's ssl module ({@code bench/openssl-client.py}),
 * with the library's default groups, suites and session tickets. Each call runs the script once and reads its
 * {@code key=value} lines.
 */
final class OpensslClient {

    private static final Path SCRIPT = Path.of("bench", "openssl-client.py");

    /** Handshakes made, in how long, their greeting latencies, and what was negotiated. */
    record Handshakes(long connections, double seconds, long failures, double p50Nanos, double p99Nanos,
            String negotiated) {
    }

    /** Round trips of 32 bytes on one connection. */
    record RoundTrips(long count, double p50Nanos, double p99Nanos) {
    }

    Handshakes handshakes(int port, int concurrency, long millis, long maxConnections) throws IOException,
            InterruptedException {
        Map<String, String> r = run("handshakes", Integer.toString(port), Integer.toString(concurrency),
                Double.toString(millis / 1000.0), Long.toString(maxConnections));
        return new Handshakes(Long.parseLong(r.get("connections")), Double.parseDouble(r.get("seconds")),
                Long.parseLong(r.get("failures")), Double.parseDouble(r.get("p50_ns")),
                Double.parseDouble(r.get("p99_ns")), r.get("version") + " " + r.get("cipher"));
    }

    RoundTrips roundTrips(int port, int count) throws IOException, InterruptedException {
        Map<String, String> r = run("roundtrips", Integer.toString(port), Integer.toString(count));
        return new RoundTrips(Long.parseLong(r.get("count")), Double.parseDouble(r.get("p50_ns")),
                Double.parseDouble(r.get("p99_ns")));
    }

    private static Map<String, String> run(String mode, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("python3", SCRIPT.toString(), mode, "127.0.0.1"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("openssl-client.py " + mode + " failed: " + out);
        }
        Map<String, String> values = new HashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
        return values;
    }
}
