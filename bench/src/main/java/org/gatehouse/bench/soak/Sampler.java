package org.gatehouse.bench.soak;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

/**
 * Samples the gateway process: RSS, threads and open descriptors from {@code /proc}, heap, Netty's direct memory and the
 * open connections from its {@code /metrics}. Keeps every sample, for the CSV, the plot and the trend checks.
 */
final class Sampler {

    /** One moment of the process; {@code NaN} where the scrape failed. */
    record Sample(String phase, double seconds, double rss, double heap, double direct, double fds, double threads,
            double connections, double preLogin, boolean scraped) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "rss %s, heap %s, direct %s, fds %.0f, threads %.0f, connections %.0f",
                    Soak.mb(rss), Soak.mb(heap), Soak.mb(direct), fds, threads, connections);
        }
    }

    /** A series the trend is checked on, with how much it may move by noise alone. */
    enum Series {
        RSS("RSS", Sample::rss, 64e6),
        HEAP("heap", Sample::heap, 32e6),
        DIRECT("direct memory", Sample::direct, 16e6),
        FDS("open descriptors", Sample::fds, 50),
        THREADS("threads", Sample::threads, 10);

        private final String label;
        private final ToDoubleFunction<Sample> value;
        private final double slack;

        Series(String label, ToDoubleFunction<Sample> value, double slack) {
            this.label = label;
            this.value = value;
            this.slack = slack;
        }

        String label() {
            return label;
        }
    }

    /**
     * Whether a series kept growing after the warm-up: the least it was in the last third of the load is compared with
     * the most it was in the first third. A leak lifts even the minimum; noise and sawtooths (GC) do not.
     */
    record Trend(Series series, double firstMax, double lastMin, int samples) {
        boolean bounded() {
            return samples < 6 || Double.isNaN(firstMax) || Double.isNaN(lastMin)
                    || lastMin <= firstMax * 1.25 + series.slack;
        }

        @Override
        public String toString() {
            boolean bytes = series != Series.FDS && series != Series.THREADS;
            return String.format(Locale.ROOT, "most in the first third %s, least in the last third %s (%d samples)",
                    bytes ? Soak.mb(firstMax) : String.format(Locale.ROOT, "%.0f", firstMax),
                    bytes ? Soak.mb(lastMin) : String.format(Locale.ROOT, "%.0f", lastMin), samples);
        }
    }

    private final Soak.Target target;
    private final long start;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Sample> samples = new ArrayList<>();
    private final List<Long> times = new ArrayList<>();
    private int scrapes;
    private int failedScrapes;

    Sampler(Soak.Target target, long start) {
        this.target = target;
        this.start = start;
    }

    Sample sample(String phase) throws IOException, InterruptedException {
        long now = System.nanoTime();
        Path proc = Path.of("/proc", String.valueOf(target.pid()));
        double rss = Double.NaN;
        double threads = Double.NaN;
        double fds = Double.NaN;
        if (Files.exists(proc)) {
            for (String line : Files.readAllLines(proc.resolve("status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Double.parseDouble(line.replaceAll("[^0-9]", "")) * 1024;
                } else if (line.startsWith("Threads:")) {
                    threads = Double.parseDouble(line.replaceAll("[^0-9]", ""));
                }
            }
            try (Stream<Path> list = Files.list(proc.resolve("fd"))) {
                fds = list.count();
            } catch (IOException e) {
                // the process is gone: NaN
            }
        }
        double heap = 0;
        double direct = Double.NaN;
        double connections = 0;
        double preLogin = 0;
        boolean scraped = false;
        scrapes++;
        try {
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + target.adminPort() + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (metrics.statusCode() == 200) {
                scraped = true;
                for (String line : metrics.body().split("\n")) {
                    if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                        heap += value(line);
                    } else if (line.startsWith("gatehouse_direct_memory_used_bytes")) {
                        direct = value(line);
                    } else if (line.startsWith("gatehouse_connections_active{")) {
                        connections += value(line);
                    } else if (line.startsWith("gatehouse_connections_pre_login{")) {
                        preLogin += value(line);
                    }
                }
            }
        } catch (IOException e) {
            // counted below
        }
        if (!scraped) {
            failedScrapes++;
            heap = Double.NaN;
            connections = Double.NaN;
            preLogin = Double.NaN;
        }
        Sample s = new Sample(phase, (now - start) / 1e9, rss, heap, direct, fds, threads, connections, preLogin,
                scraped);
        samples.add(s);
        times.add(now);
        return s;
    }

    private static double value(String line) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
    }

    /** Asks the gateway's JVM for a full collection, so that the heap measured next is what is live. */
    void collectGarbage() throws InterruptedException {
        try {
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            Process p = new ProcessBuilder(Files.exists(jcmd) ? jcmd.toString() : "jcmd", String.valueOf(target.pid()),
                    "GC.run").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            System.out.println("soak: jcmd GC.run failed (" + e.getMessage() + "); the heap is measured as it is");
        }
        Thread.sleep(1000);
    }

    List<Sample> samples() {
        return List.copyOf(samples);
    }

    double failedScrapeShare() {
        return scrapes == 0 ? 0 : (double) failedScrapes / scrapes;
    }

    /** The highest value of {@code f} among the samples taken between {@code from} and {@code to} (nanoTime). */
    double peak(ToDoubleFunction<Sample> f, long from, long to) {
        double max = Double.NaN;
        for (int i = 0; i < samples.size(); i++) {
            double v = f.applyAsDouble(samples.get(i));
            if (times.get(i) >= from && times.get(i) <= to && !Double.isNaN(v)) {
                max = Double.isNaN(max) ? v : Math.max(max, v);
            }
        }
        return Double.isNaN(max) ? 0 : max;
    }

    Trend trend(Series series, long from, long to) {
        List<Double> load = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            double v = series.value.applyAsDouble(samples.get(i));
            if (times.get(i) >= from && times.get(i) <= to && !Double.isNaN(v)) {
                load.add(v);
            }
        }
        int third = load.size() / 3;
        if (third == 0) {
            return new Trend(series, Double.NaN, Double.NaN, load.size());
        }
        double firstMax = load.subList(0, third).stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        double lastMin = load.subList(load.size() - third, load.size()).stream().mapToDouble(Double::doubleValue).min()
                .orElse(Double.NaN);
        return new Trend(series, firstMax, lastMin, load.size());
    }

    void writeCsv(Path csv) throws IOException {
        StringBuilder out = new StringBuilder("seconds,phase,rss_bytes,heap_bytes,direct_bytes,fds,threads,connections,"
                + "pre_login\n");
        for (Sample s : samples) {
            out.append(
                    String.format(Locale.ROOT, "%.1f,%s,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f%n", s.seconds(), s.phase(),
                            s.rss(), s.heap(), s.direct(), s.fds(), s.threads(), s.connections(), s.preLogin()));
        }
        Files.writeString(csv, out.toString().replace("NaN", ""));
    }
}
