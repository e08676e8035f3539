package org.gatehouse.bench.load;

import java.nio.file.Files;
import java.nio.file.Path;
import org.gatehouse.gateway.Transport;

/**
 * Gatehouse alone under the handshake load, for a profiler: start it with GATEHOUSE_BENCH_JAVA_OPTS set (for example
 * {@code -XX:StartFlightRecording=filename=gh.jfr,settings=profile,dumponexit=true}), warm it up, then load it for
 * {@code seconds}. Prints the handshake rate; the profile is the point.
 */
public final class HandshakeProfile {

    private HandshakeProfile() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Path dir = Files.createTempDirectory("gatehouse-profile");
        Bench.writeCertificate(dir);
        Transport transport = Transport.detect();
        try (Backends backends = new Backends(transport, 1 << 20); LoadClient client = new LoadClient(transport, 2);
                Target gatehouse = new Target(Target.Kind.GATEHOUSE, dir, backends,
                        Path.of("proxy-core/target/gatehouse.jar"))) {
            gatehouse.start();
            client.handshakes(gatehouse.greeter, 16, 10_000, 1_000_000);
            long cpu0 = gatehouse.cpuNanos();
            LoadClient.HandshakeResult r = client.handshakes(gatehouse.greeter, 16, seconds * 1000L, 10_000_000);
            long cpu1 = gatehouse.cpuNanos();
            System.out.printf("%d handshakes in %.1f s, %.0f µs CPU each%n", r.connections(), r.seconds(),
                    (cpu1 - cpu0) / 1e3 / r.connections());
        }
    }
}
