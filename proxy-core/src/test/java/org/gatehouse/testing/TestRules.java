package org.gatehouse.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

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

    /** A loopback port nobody listens on now. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
