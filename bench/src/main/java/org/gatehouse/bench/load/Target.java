package org.gatehouse.bench.load;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * One proxy under test, started as its own process from a private configuration: Gatehouse, stunnel or HAProxy, each
 * with four TLS listeners (greeter, bulk, sink, echo) in front of the same plaintext backends and the same
 * certificate, and each logging a line per connection as it would in production (Gatehouse its access line, stunnel
 * at its default level, HAProxy with {@code option tcplog}).
 */
final class Target implements AutoCloseable {

    enum Kind {
        GATEHOUSE,
        STUNNEL,
        HAPROXY
    }

    final Kind kind;
    final int greeter;
    final int bulk;
    final int sink;
    final int echo;
    private final Path dir;
    private final Backends backends;
    private final Path jar;
    private Process process;

    Target(Kind kind, Path dir, Backends backends, Path jar) throws IOException {
        this.kind = kind;
        this.dir = dir;
        this.backends = backends;
        this.jar = jar;
        greeter = freePort();
        bulk = freePort();
        sink = freePort();
        echo = freePort();
    }

    /** The POP3 server behind the greeter rule: the benchmark's own, or a real one (bench/run --dovecot). */
    private int greeterBackend() {
        String real = System.getProperty("bench.pop3.backend");
        return real == null ? backends.greeter : Integer.parseInt(real);
    }

    String name() {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    long pid() {
        return process.pid();
    }

    /** Starts (or restarts) the process and waits until every listener accepts. */
    void start() throws Exception {
        close();
        // Logs go to their own folder, as they would in production (the journal): Gatehouse watches its rules folder.
        Path log = Files.createDirectories(dir.resolve("logs")).resolve(name() + ".log");
        List<String> command = switch (kind) {
            case GATEHOUSE -> gatehouseCommand();
            case STUNNEL -> List.of("stunnel4", writeStunnel().toString());
            case HAPROXY -> List.of("haproxy", "-db", "-f", writeHaproxy().toString());
        };
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (int port : new int[]{greeter, bulk, sink, echo}) {
            while (!accepts(port)) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException(name() + " did not start: " + Files.readString(log));
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * The packaged command: deploy/debian/gatehouse with the JVM settings of deploy/debian/gatehouse.default, its
     * warm-up and its class-data archive (built in bench/target by the first start). GATEHOUSE_BENCH_JAVA_OPTS adds
     * options (a profiler, say) for a closer look.
     */
    private List<String> gatehouseCommand() throws IOException {
        String defaults = Files.readString(Path.of("deploy", "debian", "gatehouse.default"));
        String extra = System.getenv("GATEHOUSE_BENCH_JAVA_OPTS");
        if (extra != null && !extra.isBlank()) {
            defaults += "\nJAVA_OPTS=\"$JAVA_OPTS " + extra.trim() + "\"\n";
        }
        Path file = Files.writeString(dir.resolve("gatehouse.default"), defaults);
        return List.of("env", "GATEHOUSE_DEFAULTS=" + file, "GATEHOUSE_JAR=" + jar.toAbsolutePath(),
                "GATEHOUSE_CDS=" + Path.of("bench", "target", "gatehouse.jsa").toAbsolutePath(),
                "JAVA_HOME=" + System.getProperty("java.home"), "sh", "deploy/debian/gatehouse", "run", "--rules",
                writeGatehouse().toString());
    }

    private Path writeGatehouse() throws IOException {
        StringBuilder y = new StringBuilder("""
                admin: { enabled: false }
                certificates:
                  bench: { certificate: cert.pem, privateKey: key.pem }
                rules:
                """);
        y.append(rule("greeter", greeter, "pop3", greeterBackend())).append("    login: plaintext-allowed\n");
        y.append(rule("bulk", bulk, "tcp", backends.bulk));
        y.append(rule("sink", sink, "tcp", backends.sink));
        y.append(rule("echo", echo, "tcp", backends.echo));
        return Files.writeString(dir.resolve("gatehouse.yaml"), y.toString());
    }

    private static String rule(String name, int port, String protocol, int backend) {
        return """
                  - name: %s
                    listen: ["127.0.0.1:%d"]
                    protocol: %s
                    certificate: bench
                    backend: ["127.0.0.1:%d"]
                """.formatted(name, port, protocol, backend);
    }

    private Path writeStunnel() throws IOException {
        StringBuilder c = new StringBuilder("foreground = yes\npid =\nsyslog = no\noutput = "
                + dir.resolve("logs").resolve("stunnel.out") + "\n"
                + "cert = " + dir.resolve("cert.pem") + "\nkey = " + dir.resolve("key.pem")
                + "\nsslVersionMin = TLSv1.2\n");
        String[][] services = {{"greeter", "" + greeter, "" + greeterBackend()},
                {"bulk", "" + bulk, "" + backends.bulk},
                {"sink", "" + sink, "" + backends.sink}, {"echo", "" + echo, "" + backends.echo}};
        for (String[] s : services) {
            c.append('[').append(s[0]).append("]\naccept = 127.0.0.1:").append(s[1]).append("\nconnect = 127.0.0.1:")
                    .append(s[2]).append("\nTIMEOUTclose = 0\n");
        }
        return Files.writeString(dir.resolve("stunnel.conf"), c.toString());
    }

    private Path writeHaproxy() throws IOException {
        StringBuilder c = new StringBuilder(
                """
                        global
                          maxconn 8000
                          nbthread %d
                          ssl-default-bind-options ssl-min-ver TLSv1.2
                          # OpenSSL picks by its own order (AES-256 first); BoringSSL and stunnel here pick AES-128-GCM
                          ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
                          log stdout format raw local0
                        defaults
                          mode tcp
                          log global
                          option tcplog
                          timeout connect 5s
                          timeout client 10m
                          timeout server 10m
                        """
                        .formatted(Runtime.getRuntime().availableProcessors()));
        String[][] services = {{"greeter", "" + greeter, "" + greeterBackend()},
                {"bulk", "" + bulk, "" + backends.bulk},
                {"sink", "" + sink, "" + backends.sink}, {"echo", "" + echo, "" + backends.echo}};
        for (String[] s : services) {
            c.append("frontend ").append(s[0]).append("\n  bind 127.0.0.1:").append(s[1]).append(" ssl crt ")
                    .append(dir.resolve("combined.pem")).append("\n  default_backend ").append(s[0]).append("_b\n")
                    .append("backend ").append(s[0]).append("_b\n  server s1 127.0.0.1:").append(s[2]).append('\n');
        }
        return Files.writeString(dir.resolve("haproxy.cfg"), c.toString());
    }

    /** CPU time used so far (user + system), in nanoseconds, from /proc. */
    long cpuNanos() throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
        return ticks * 10_000_000L; // USER_HZ is 100 on Linux
    }

    /** Resident memory now, in kilobytes. */
    long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS for " + name());
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    static List<Target> all(Path dir, Backends backends, Path jar) throws IOException {
        List<Target> out = new ArrayList<>();
        for (Kind k : Kind.values()) {
            out.add(new Target(k, dir, backends, jar));
        }
        return out;
    }
}
