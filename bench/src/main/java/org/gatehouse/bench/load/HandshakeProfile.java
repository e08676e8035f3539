package org.gatehouse.bench.load;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.gatehouse.session.Transport;

/**
 * One proxy alone under the handshake load, for a profiler or a quick comparison: {@code HandshakeProfile [seconds]
 * [gatehouse|stunnel|haproxy] [classical|library-default|openssl]}, the last being the key-exchange groups the Netty
 * client offers, or {@code openssl} for the OpenSSL 3 client ({@code bench/openssl-client.py}) with its own defaults.
 * For Gatehouse, GATEHOUSE_BENCH_JAVA_OPTS adds JVM options (for example
 * {@code -XX:StartFlightRecording=filename=gh.jfr,settings=profile,dumponexit=true}). Warms the proxy up, loads it for
 * {@code seconds} and prints the handshake rate and the proxy's CPU per handshake.
 */
public final class HandshakeProfile {

    private HandshakeProfile() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Target.Kind kind = args.length > 1 ? Target.Kind.valueOf(word(args[1])) : Target.Kind.GATEHOUSE;
        boolean openssl = args.length > 2 && args[2].equals("openssl");
        LoadClient.Groups groups = args.length > 2 && !openssl
                ? LoadClient.Groups.valueOf(word(args[2]))
                : LoadClient.Groups.CLASSICAL;
        Path dir = Files.createTempDirectory("gatehouse-profile");
        Bench.writeCertificate(dir);
        Transport transport = Transport.detect();
        try (Backends backends = new Backends(transport, 1 << 20);
                LoadClient client = new LoadClient(transport, 2);
                Target proxy = new Target(kind, dir, backends,
                        Path.of("proxy-core/target/gatehouse.jar"))) {
            proxy.start();
            if (openssl) {
                profileOpenssl(proxy, seconds);
                return;
            }
            client.handshakes(proxy.greeter, 16, 10_000, 1_000_000, groups);
            long cpu0 = proxy.cpuNanos();
            LoadClient.HandshakeResult r = client.handshakes(proxy.greeter, 16, seconds * 1000L, 10_000_000,
                    groups);
            long cpu1 = proxy.cpuNanos();
            System.out.printf("%s (%s): %d handshakes in %.1f s, %.0f µs CPU each%n", proxy.name(),
                    client.negotiated.get(), r.connections(), r.seconds(), (cpu1 - cpu0) / 1e3 / r.connections());
        }
    }

    private static void profileOpenssl(Target proxy, int seconds) throws Exception {
        OpensslClient openssl = new OpensslClient();
        if (System.getenv("PROFILE_RTT") != null) {
            // Round trips of 32 bytes on one connection, as bench/run measures them, several times over.
            for (int i = 1; i <= Integer.parseInt(System.getenv("PROFILE_RTT")); i++) {
                OpensslClient.RoundTrips rtt = openssl.roundTrips(proxy.echo, 5_000);
                System.out.printf("round trips %d: p50 %.0f µs, p99 %.0f µs%n", i, rtt.p50Nanos() / 1e3,
                        rtt.p99Nanos() / 1e3);
            }
            return;
        }
        String windows = System.getenv("PROFILE_WINDOWS");
        if (windows != null) {
            // The warm-up itself: CPU per handshake in consecutive 5 s windows from the proxy's start.
            for (int w = 1; w <= Integer.parseInt(windows); w++) {
                long c0 = proxy.cpuNanos();
                OpensslClient.Handshakes h = openssl.handshakes(proxy.greeter, 16, 5_000, 10_000_000);
                long c1 = proxy.cpuNanos();
                System.out.printf("window %d: %d handshakes, %.0f µs CPU each%n", w, h.connections(),
                        (c1 - c0) / 1e3 / h.connections());
            }
            return;
        }
        openssl.handshakes(proxy.greeter, 16, 10_000, 1_000_000);
        long cpu0 = proxy.cpuNanos();
        OpensslClient.Handshakes r = openssl.handshakes(proxy.greeter, 16, seconds * 1000L, 10_000_000);
        long cpu1 = proxy.cpuNanos();
        System.out.printf("%s (%s, OpenSSL 3 client): %d handshakes in %.1f s, %.0f µs CPU each%n", proxy.name(),
                r.negotiated(), r.connections(), r.seconds(), (cpu1 - cpu0) / 1e3 / r.connections());
    }

    /** "library-default" as the enum constant LIBRARY_DEFAULT. */
    private static String word(String arg) {
        return arg.toUpperCase(Locale.ROOT).replace('-', '_');
    }
}
