package org.gatehouse.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/** Small pieces of rules files and ports that the integration tests share. */
public final class TestRules {

    private TestRules() {
    }

    /** One rule on a free loopback port, with the test certificate unless {@code tls} is none. */
    public static String rule(String name, String protocol, String tls, String backend) {
        return """
                  - name: %s
                    listen: ["127.0.0.1:0"]
                    protocol: %s
                    tls: %s
                %s    backend: ["%s"]
                """.formatted(name, protocol, tls, tls.equals("none") ? "" : "    certificate: test\n", backend);
    }

    /** Where {@link #freePort} looks: below Linux's ephemeral range, above interop's and the soak's fixed ports. */
    private static final int FIRST_PORT = 26_000;
    private static final int PORTS = 5_000;
    private static final AtomicInteger NEXT = new AtomicInteger(ThreadLocalRandom.current().nextInt(PORTS));

    /**
     * A loopback port nobody listens on now, for a test that must name its port before the gateway binds it. It lies
     * outside the kernel's ephemeral range (32768-60999), so that no socket bound to port 0 in between (the admin
     * endpoint, a backend, a client's own end of a connection) can take it first, which once made a reload fail with
     * "Address already in use"; and outside the fixed ports interop/ and bench/soak use (21xxx-25xxx, 31xxx-32xxx).
     * Successive calls give different ports.
     */
    public static int freePort() throws IOException {
        for (int attempt = 0; attempt < PORTS; attempt++) {
            int port = FIRST_PORT + Math.floorMod(NEXT.getAndIncrement(), PORTS);
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // in use, by another test or process: the next one
            }
        }
        throw new IOException("no free loopback port in " + FIRST_PORT + "-" + (FIRST_PORT + PORTS - 1));
    }
}
