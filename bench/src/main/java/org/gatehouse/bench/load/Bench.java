package org.gatehouse.bench.load;

import io.netty.channel.Channel;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.gatehouse.session.Transport;
import org.gatehouse.tls.SelfSignedCertificates;

/**
 * Gatehouse, stunnel and HAProxy side by side, on loopback, in one run: the same certificate (ECDSA P-256), the same
 * plaintext backends, the same load client, interleaved (A B C, A B C, …) so that drift in the machine's load falls on
 * all three alike. Prints a table of medians with each target's ratio to HAProxy and writes it, with a PNG chart, into
 * a Markdown file. No figure is ever asserted: this is a measurement, not a test.
 *
 * <p>{@code --quick}: one short round of everything, for CI to prove the harness still works.
 */
public final class Bench {

    /** One metric: how to print it, and whether less is better. */
    private record Metric(String key, String label, String unit, boolean lessIsBetter) {
    }

    private static final List<Metric> METRICS = List.of(
            new Metric("hs1_p50", "connect-to-greeting p50, one client at a time", "ms", true),
            new Metric("hs_rate", "handshakes per second", "conn/s", false),
            new Metric("hs_p50", "connect-to-greeting p50, 16 at a time", "ms", true),
            new Metric("hs_p99", "connect-to-greeting p99, 16 at a time", "ms", true),
            new Metric("hs_cpu", "proxy CPU per handshake", "µs", true),
            new Metric("hs_cpu_pq", "proxy CPU per handshake, ML-KEM offered", "µs", true),
            new Metric("down_mbs", "throughput to the client", "MB/s", false),
            new Metric("down_cpu", "proxy CPU per GB to the client", "s/GB", true),
            new Metric("up_mbs", "throughput from the client", "MB/s", false),
            new Metric("up_cpu", "proxy CPU per GB from the client", "s/GB", true),
            new Metric("rtt_p50", "request/response p50", "µs", true),
            new Metric("rtt_p99", "request/response p99", "µs", true),
            new Metric("hs_cpu_o", "proxy CPU per handshake, OpenSSL 3 client", "µs", true),
            new Metric("hs_cpu_o_first", "proxy CPU per handshake, OpenSSL 3 client, first 5 s after start", "µs",
                    true),
            new Metric("hs_rate_o", "handshakes per second, OpenSSL 3 client", "conn/s", false),
            new Metric("hs_p99_o", "connect-to-greeting p99, OpenSSL 3 client, 16 at a time", "ms", true),
            new Metric("rtt_p50_o", "request/response p50, OpenSSL 3 client", "µs", true),
            new Metric("rtt_p99_o", "request/response p99, OpenSSL 3 client", "µs", true),
            new Metric("rss_rest", "RSS at rest, freshly started", "MB", true),
            new Metric("rss_2000", "RSS with 2000 idle TLS connections", "MB", true),
            new Metric("idle_rss", "RSS growth per idle TLS connection", "kB", true));

    private final boolean quick;
    private final Map<String, Map<String, List<Double>>> results = new LinkedHashMap<>();
    private final Map<String, String> negotiated = new LinkedHashMap<>();
    private final Map<String, String> negotiatedPq = new LinkedHashMap<>();
    private final Map<String, String> negotiatedOpenssl = new LinkedHashMap<>();
    private final OpensslClient openssl = new OpensslClient();
    private String loadAtStart = "?";

    private Bench(boolean quick) {
        this.quick = quick;
    }

    public static void main(String[] args) throws Exception {
        boolean quick = List.of(args).contains("--quick");
        Path out = Path.of(argument(args, "--out", quick ? "bench/target/benchmarks-quick.md" : "docs/benchmarks.md"));
        Path jar = Path.of(argument(args, "--jar", "proxy-core/target/gatehouse.jar"));
        new Bench(quick).run(out, jar);
    }

    private static String argument(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }

    private void run(Path out, Path jar) throws Exception {
        loadAtStart = loadAverage();
        Path dir = Files.createTempDirectory("gatehouse-bench");
        writeCertificate(dir);
        Transport transport = Transport.detect();
        long bulkBytes = (quick ? 16L : 256L) << 20;
        int rounds = quick ? 1 : 3;
        try (Backends backends = new Backends(transport, bulkBytes); LoadClient client = new LoadClient(transport, 2)) {
            List<Target> targets = Target.all(dir, backends, jar);
            try {
                for (Target t : targets) {
                    t.start();
                    results.put(t.name(), new LinkedHashMap<>());
                }
                for (int round = 1; round <= rounds; round++) {
                    for (Target t : targets) {
                        System.out.printf("round %d/%d %s%n", round, rounds, t.name());
                        measureTraffic(t, client, bulkBytes);
                    }
                }
                for (int round = 1; round <= rounds; round++) {
                    for (Target t : targets) {
                        t.start(); // a fresh process, so that the growth is the connections' own
                        measureIdle(t, client);
                        t.start(); // and again: the first seconds of a process that has not run yet
                        measureFirstSeconds(t);
                    }
                }
            } finally {
                for (Target t : targets) {
                    t.close();
                }
            }
        }
        String table = table();
        System.out.println(table);
        write(out, table);
        deleteRecursively(dir);
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private void measureTraffic(Target t, LoadClient client, long bulkBytes) throws Exception {
        List<Long> alone = new ArrayList<>(client.handshakes(t.greeter, 1, quick ? 500 : 3_000, 1_000).greetingNanos());
        Collections.sort(alone);
        add(t, "hs1_p50", percentile(alone, 50) / 1e6);
        long cpu0 = t.cpuNanos();
        LoadClient.HandshakeResult hs = client.handshakes(t.greeter, 16, quick ? 2_000 : 10_000, 200_000);
        long cpu1 = t.cpuNanos();
        negotiated.put(t.name(), client.negotiated.get());
        List<Long> greet = new ArrayList<>(hs.greetingNanos());
        Collections.sort(greet);
        add(t, "hs_rate", hs.connections() / hs.seconds());
        add(t, "hs_p50", percentile(greet, 50) / 1e6);
        add(t, "hs_p99", percentile(greet, 99) / 1e6);
        add(t, "hs_cpu", (cpu1 - cpu0) / 1e3 / Math.max(1, hs.connections()));

        // The same load with the client's library default groups: a proxy that knows ML-KEM pays for it.
        cpu0 = t.cpuNanos();
        LoadClient.HandshakeResult pq = client.handshakes(t.greeter, 16, quick ? 1_000 : 5_000, 100_000,
                LoadClient.Groups.LIBRARY_DEFAULT);
        cpu1 = t.cpuNanos();
        negotiatedPq.put(t.name(), client.negotiated.get());
        add(t, "hs_cpu_pq", (cpu1 - cpu0) / 1e3 / Math.max(1, pq.connections()));

        int streams = 2;
        long c0 = t.cpuNanos();
        LoadClient.Transfer down = client.download(t.bulk, streams);
        long c1 = t.cpuNanos();
        add(t, "down_mbs", down.megabytesPerSecond());
        add(t, "down_cpu", (c1 - c0) / 1e9 / (down.bytes() / 1e9));

        c0 = t.cpuNanos();
        LoadClient.Transfer up = client.upload(t.sink, streams, bulkBytes);
        c1 = t.cpuNanos();
        add(t, "up_mbs", up.megabytesPerSecond());
        add(t, "up_cpu", (c1 - c0) / 1e9 / (up.bytes() / 1e9));

        List<Long> rtt = new ArrayList<>(client.latency(t.echo, quick ? 200 : 5_000));
        Collections.sort(rtt);
        add(t, "rtt_p50", percentile(rtt, 50) / 1e3);
        add(t, "rtt_p99", percentile(rtt, 99) / 1e3);
        measureOpenssl(t);
    }

    /** The same handshake load and round trips from the OpenSSL 3 client, its default groups and suites. */
    private void measureOpenssl(Target t) throws Exception {
        long cpu0 = t.cpuNanos();
        OpensslClient.Handshakes hs = openssl.handshakes(t.greeter, 16, quick ? 2_000 : 10_000, 200_000);
        long cpu1 = t.cpuNanos();
        negotiatedOpenssl.put(t.name(), hs.negotiated());
        add(t, "hs_cpu_o", (cpu1 - cpu0) / 1e3 / Math.max(1, hs.connections()));
        add(t, "hs_rate_o", hs.connections() / hs.seconds());
        add(t, "hs_p99_o", hs.p99Nanos() / 1e6);
        OpensslClient.RoundTrips rtt = openssl.roundTrips(t.echo, quick ? 200 : 5_000);
        add(t, "rtt_p50_o", rtt.p50Nanos() / 1e3);
        add(t, "rtt_p99_o", rtt.p99Nanos() / 1e3);
    }

    /** A process that has just started: the OpenSSL client's handshakes in its first five seconds. */
    private void measureFirstSeconds(Target t) throws Exception {
        long cpu0 = t.cpuNanos();
        OpensslClient.Handshakes hs = openssl.handshakes(t.greeter, 16, 5_000, 200_000);
        long cpu1 = t.cpuNanos();
        add(t, "hs_cpu_o_first", (cpu1 - cpu0) / 1e3 / Math.max(1, hs.connections()));
    }

    private void measureIdle(Target t, LoadClient client) throws Exception {
        int count = quick ? 200 : 2_000;
        Thread.sleep(2_000);
        long before = t.rssKb();
        add(t, "rss_rest", before / 1024.0);
        List<Channel> open = client.holdOpen(t.echo, count);
        try {
            client.checkAlive(open);
            Thread.sleep(500);
            long after = t.rssKb();
            add(t, "rss_2000", after / 1024.0);
            add(t, "idle_rss", (after - before) / (double) open.size());
        } finally {
            open.forEach(Channel::close);
        }
    }

    private void add(Target t, String key, double value) {
        results.get(t.name()).computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }

    private double median(String target, String key) {
        List<Double> values = new ArrayList<>(results.get(target).getOrDefault(key, List.of()));
        if (values.isEmpty()) {
            return Double.NaN;
        }
        Collections.sort(values);
        return values.get(values.size() / 2);
    }

    private static double percentile(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private String table() {
        StringBuilder t = new StringBuilder("| metric | unit |");
        results.keySet().forEach(name -> t.append(' ').append(name).append(" |"));
        results.keySet().stream().filter(n -> !n.equals("haproxy"))
                .forEach(n -> t.append(' ').append(n).append(" / haproxy |"));
        t.append("\n| --- | --- |");
        results.keySet().forEach(n -> t.append(" ---: |"));
        results.keySet().stream().filter(n -> !n.equals("haproxy")).forEach(n -> t.append(" ---: |"));
        t.append('\n');
        for (Metric m : METRICS) {
            t.append("| ").append(m.label()).append(m.lessIsBetter() ? " (less is better)" : "").append(" | ")
                    .append(m.unit()).append(" |");
            for (String name : results.keySet()) {
                t.append(' ').append(format(median(name, m.key()))).append(" |");
            }
            double base = median("haproxy", m.key());
            for (String name : results.keySet()) {
                if (!name.equals("haproxy")) {
                    t.append(' ').append(String.format(Locale.ROOT, "%.2f", median(name, m.key()) / base)).append(" |");
                }
            }
            t.append('\n');
        }
        return t.toString();
    }

    private static String format(double v) {
        return Double.isNaN(v)
                ? "-"
                : v >= 100
                        ? String.format(Locale.ROOT, "%.0f", v)
                        : String.format(Locale.ROOT, "%.2f", v);
    }

    private void write(Path out, String table) throws IOException {
        StringBuilder section = new StringBuilder();
        section.append("Measured by `bench/run`")
                .append(quick ? " --quick (a smoke run: too short to mean anything)" : "")
                .append(" on ").append(LocalDate.now()).append(", one process per proxy on loopback, medians of ")
                .append(quick ? 1 : 3).append(" interleaved rounds.\n\n")
                .append("- machine: ").append(machine()).append("; load average (1 min) ").append(loadAtStart)
                .append(" at the start, ").append(loadAverage()).append(" at the end (other work on the machine shows")
                .append(" as high figures for all three alike)\n")
                .append("- versions: Gatehouse ")
                .append(version("java", "-jar", "proxy-core/target/gatehouse.jar", "--version"))
                .append("; ").append(version("stunnel4", "-version")).append("; ").append(version("haproxy", "-v"))
                .append("; Java ").append(System.getProperty("java.version")).append('\n')
                .append("- negotiated (the client offers X25519 and P-256, which all three support): ");
        negotiated.forEach((k, v) -> section.append(k).append(" ").append(v).append("; "));
        section.append("\n- negotiated when the client offers its library's default groups (X25519MLKEM768 first): ");
        negotiatedPq.forEach((k, v) -> section.append(k).append(" ").append(v).append("; "));
        section.append("\n- negotiated with the OpenSSL 3 client (Python's ssl, its default groups and suites): ");
        negotiatedOpenssl.forEach((k, v) -> section.append(k).append(" ").append(v).append("; "));
        section.append("\n- load: handshakes one at a time, then 16 concurrent handshake loops; 2 streams of ")
                .append(quick ? 16 : 256)
                .append(" MiB each way; ").append(quick ? 200 : 5_000).append(" round trips of 32 bytes; ")
                .append(quick ? 200 : 2_000)
                .append(" idle TLS connections, each with its backend connection, on a freshly")
                .append(" started proxy (Gatehouse as packaged: deploy/debian/gatehouse with the JVM settings, warm-up and")
                .append(" class-data archive of deploy/debian/gatehouse.default)\n\n")
                .append(table).append('\n')
                .append("![ratio to HAProxy](").append(chartName(out)).append(")\n");
        String start = "<!-- side-by-side:start -->\n";
        String end = "<!-- side-by-side:end -->";
        String existing = Files.exists(out) ? Files.readString(out) : "# Benchmarks\n\n" + start + end + "\n";
        if (!existing.contains(start)) {
            existing = existing + "\n## Side by side with stunnel and HAProxy\n\n" + start + end + "\n";
        }
        String updated = existing.substring(0, existing.indexOf(start) + start.length()) + section
                + existing.substring(existing.indexOf(end));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, updated);
        chart(out.resolveSibling(chartName(out)));
        System.out.println("wrote " + out + " and " + out.resolveSibling(chartName(out)));
    }

    private static String chartName(Path out) {
        return out.getFileName().toString().replace(".md", ".png");
    }

    /** Each target's ratio to HAProxy for the metrics where less is better (CPU, latency, memory): under 1 is better. */
    private void chart(Path png) throws IOException {
        List<Metric> shown = METRICS.stream().filter(Metric::lessIsBetter).toList();
        List<String> names = new ArrayList<>(results.keySet());
        int width = 900;
        int height = 120 + shown.size() * 60;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("Ratio to HAProxy (less is better; the line is HAProxy = 1)", 20, 30);
        Color[] colors = {new Color(0x2E7D32), new Color(0x1565C0), new Color(0xEF6C00)};
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i < names.size(); i++) {
            g.setColor(colors[i % colors.length]);
            g.fillRect(20 + i * 150, 45, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString(names.get(i), 38 + i * 150, 56);
        }
        int left = 300;
        int scaleWidth = width - left - 40;
        double max = 2.0;
        int oneX = left + (int) (scaleWidth / max);
        for (int m = 0; m < shown.size(); m++) {
            int y = 80 + m * 60;
            g.setColor(Color.BLACK);
            g.drawString(shown.get(m).label(), 20, y + 25);
            double base = median("haproxy", shown.get(m).key());
            for (int i = 0; i < names.size(); i++) {
                double ratio = median(names.get(i), shown.get(m).key()) / base;
                int w = Double.isNaN(ratio) ? 0 : (int) (Math.min(ratio, max) / max * scaleWidth);
                g.setColor(colors[i % colors.length]);
                g.fillRect(left, y + i * 16, Math.max(1, w), 13);
                g.setColor(Color.DARK_GRAY);
                g.drawString(String.format(Locale.ROOT, "%.2f", ratio), left + w + 4, y + i * 16 + 11);
            }
        }
        g.setColor(Color.RED);
        g.drawLine(oneX, 70, oneX, height - 10);
        g.dispose();
        ImageIO.write(image, "png", png.toFile());
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    private static String machine() {
        String model = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException e) {
            // unknown
        }
        return Runtime.getRuntime().availableProcessors() + " CPUs, " + model + ", " + System.getProperty("os.name")
                + " "
                + System.getProperty("os.version");
    }

    private static String version(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).lines()
                    .filter(l -> l.toLowerCase(Locale.ROOT).matches(".*(gatehouse|stunnel|haproxy version).*"))
                    .findFirst().orElse(command[0] + " ?");
            p.waitFor();
            return out.trim();
        } catch (IOException | InterruptedException e) {
            return command[0] + " ?";
        }
    }

    /** One ECDSA P-256 certificate and key for all three proxies, as PEM and as HAProxy's combined file. */
    static void writeCertificate(Path dir) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = generator.generateKeyPair();
        String cert = SelfSignedCertificates.toPem(SelfSignedCertificates.selfSign(keys, List.of("bench.example.test",
                "127.0.0.1"), Instant.now()));
        String key = SelfSignedCertificates.toPem(new JcaPKCS8Generator(keys.getPrivate(), null));
        Files.writeString(dir.resolve("cert.pem"), cert);
        Files.writeString(dir.resolve("key.pem"), key);
        Files.writeString(dir.resolve("combined.pem"), cert + key);
    }
}
