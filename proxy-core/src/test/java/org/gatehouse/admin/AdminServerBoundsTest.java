package org.gatehouse.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.gatehouse.gateway.Reloader;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.HostPort;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admin endpoint under attack, over real sockets: a client pipelining requests without reading, oversized and
 * malformed requests, headers trickled a byte at a time, and more connections than it takes. Each is bounded: one
 * response in flight per connection, 431/414/400, a deadline for the request head that no trickle extends, a
 * connection cap.
 */
class AdminServerBoundsTest {

    /** A scrape as large as a busy gateway's, so that held responses would show in memory at once. */
    private static final String BODY = "x".repeat(256 * 1024);

    private AdminServer server;
    private final List<Socket> open = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = AdminServer.start(new HostPort("127.0.0.1", 0), Transport.detect(), new AdminServer.Endpoints() {
            @Override
            public Optional<GatewayMetrics.Scrape> scrape(String accept) {
                return Optional.of(new GatewayMetrics.Scrape("text/plain; version=0.0.4", BODY));
            }

            @Override
            public Optional<String> notReady() {
                return Optional.empty();
            }

            @Override
            public CompletableFuture<Reloader.Outcome> reload() {
                return CompletableFuture.completedFuture(new Reloader.Outcome(true, "no rule changed", List.of()));
            }
        });
        LogCapture.clear();
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : open) {
            s.close();
        }
        server.close();
    }

    private Socket connect() throws IOException {
        InetSocketAddress at = server.address();
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(at, 5_000);
        s.setSoTimeout(20_000);
        open.add(s);
        return s;
    }

    /** The status line of the first response on {@code s}. */
    private static String statusLine(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.append((char) b);
        }
        return line.toString().trim();
    }

    private static String request(String requestLine, String... headers) {
        StringBuilder r = new StringBuilder(requestLine).append("\r\nHost: 127.0.0.1\r\n");
        for (String h : headers) {
            r.append(h).append("\r\n");
        }
        return r.append("\r\n").toString();
    }

    private static long directMemory() {
        long jdk = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(p -> p.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        return Math.max(jdk, PlatformDependent.usedDirectMemory());
    }

    @Test
    void aClientPipeliningWithoutReadingHoldsOneResponseNotOneThousand() throws Exception {
        long before = directMemory();
        Socket s = connect();
        byte[] pipelined = request("GET /metrics HTTP/1.1").repeat(1000).getBytes(StandardCharsets.US_ASCII);
        Thread writer = new Thread(() -> {
            try {
                s.getOutputStream().write(pipelined); // blocks once the server stops reading: that is the point
            } catch (IOException closed) {
                // the test ends
            }
        });
        writer.setDaemon(true);
        writer.start();
        long peak = 0;
        for (int i = 0; i < 30; i++) {
            Thread.sleep(100);
            peak = Math.max(peak, directMemory() - before);
        }
        // 1000 responses of 256 KiB would be 250 MiB; one or two in flight, and the request bytes, are a few MiB.
        assertThat(peak).as("direct memory held for one client that does not read").isLessThan(16L * 1024 * 1024);
        s.close();
        writer.join(5_000);
        Eventually.until("the endpoint is free again", () -> directMemory() - before < 4L * 1024 * 1024);
        try (Socket next = connect()) {
            next.getOutputStream().write(request("GET /healthz HTTP/1.1").getBytes(StandardCharsets.US_ASCII));
            assertThat(statusLine(next)).isEqualTo("HTTP/1.1 200 OK");
        }
    }

    @Test
    void oversizedAndMalformedRequestsAreAnsweredAsSuchAndClosed() throws Exception {
        Socket headers = connect();
        headers.getOutputStream().write(request("GET /metrics HTTP/1.1", "X-Big: " + "a".repeat(20_000))
                .getBytes(StandardCharsets.US_ASCII));
        assertThat(statusLine(headers)).isEqualTo("HTTP/1.1 431 Request Header Fields Too Large");

        Socket uri = connect();
        uri.getOutputStream().write(request("GET /metrics?" + "a".repeat(10_000) + " HTTP/1.1")
                .getBytes(StandardCharsets.US_ASCII));
        assertThat(statusLine(uri)).isEqualTo("HTTP/1.1 414 URI Too Long");

        Socket malformed = connect();
        malformed.getOutputStream().write(request("GET /metrics HTTP/1.1", "No colon in this header")
                .getBytes(StandardCharsets.US_ASCII));
        assertThat(statusLine(malformed)).isEqualTo("HTTP/1.1 400 Bad Request");

        Socket body = connect();
        body.getOutputStream().write(request("POST /-/reload HTTP/1.1", "Content-Length: 100000")
                .getBytes(StandardCharsets.US_ASCII));
        assertThat(statusLine(body)).isEqualTo("HTTP/1.1 413 Request Entity Too Large");

        for (Socket s : List.of(headers, uri, malformed, body)) {
            s.setSoTimeout(5_000);
            assertThat(readToEnd(s)).as("closed after the answer").isNotNull();
        }
        assertThat(LogCapture.lines()).noneMatch(l -> l.contains(" | "));
    }

    @Test
    void aRequestHeadTrickledAByteAtATimeIsCutAtTheDeadline() throws Exception {
        List<Socket> slow = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Socket s = connect();
            s.setSoTimeout(200);
            s.getOutputStream().write("GET /metrics HTTP/1.1\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
            slow.add(s);
        }
        long start = System.nanoTime();
        List<Socket> stillOpen = new ArrayList<>(slow);
        while (!stillOpen.isEmpty() && System.nanoTime() - start < 25_000_000_000L) {
            for (Socket s : List.copyOf(stillOpen)) {
                if (closedByServer(s)) {
                    stillOpen.remove(s);
                }
            }
        }
        assertThat(stillOpen).as("slow-header connections still open after 25 s, a byte every 200 ms").isEmpty();
    }

    /** Sends one more header byte; true once the server has closed the connection (408 read, then the end). */
    private static boolean closedByServer(Socket s) {
        try {
            s.getOutputStream().write('a');
            OutputStream unused = s.getOutputStream();
            return s.getInputStream().read() < 0 || drainedToEnd(s);
        } catch (SocketTimeoutException stillWaiting) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private static boolean drainedToEnd(Socket s) throws IOException {
        while (true) {
            int b = s.getInputStream().read();
            if (b < 0) {
                return true;
            }
        }
    }

    private static String readToEnd(Socket s) throws IOException {
        try {
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException reset) {
            return "";
        }
    }

    @Test
    void connectionsBeyondTheCapAreTurnedAwayAndTheOthersServed() throws Exception {
        List<Socket> idle = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            idle.add(connect());
        }
        Thread.sleep(1_000); // the refused ones have their 503 and close by now; the others wait (10 s) for a request
        int refused = 0;
        for (Socket s : idle) {
            s.setSoTimeout(1);
            try {
                s.getInputStream().read();
                refused++; // a 503 or a close, without a request sent
            } catch (SocketTimeoutException accepted) {
                // held open, waiting for a request
            } catch (IOException reset) {
                refused++;
            }
        }
        assertThat(refused).as("connections over the cap of 32").isEqualTo(8);
        for (Socket s : idle) {
            s.close();
        }
        Eventually.until("a new client is served", () -> {
            try (Socket next = new Socket(server.address().getAddress(), server.address().getPort())) {
                next.setSoTimeout(2_000);
                next.getOutputStream().write(request("GET /healthz HTTP/1.1").getBytes(StandardCharsets.US_ASCII));
                return statusLine(next).equals("HTTP/1.1 200 OK");
            } catch (IOException e) {
                return false;
            }
        });
    }
}
