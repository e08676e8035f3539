package org.gatehouse.bench.soak;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The hostile traffic of the soak, each kind a loop that ends at the deadline (or at {@link #stop()}), with a fixed
 * number of sockets at most. Where the gateway promises an answer (a temporary error, a 431, a refused reload), not
 * getting it is a surprise, which fails the soak.
 */
final class Attacks {

    private static final int SLOWLORIS = 60;
    private static final int SLOW_ADMIN = 6;

    private final Soak.Target target;
    private final Map<String, AtomicInteger> counts = new LinkedHashMap<>();
    private final AtomicInteger surprises = new AtomicInteger();
    private final List<String> surprising = Collections.synchronizedList(new ArrayList<>());
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private volatile boolean stopped;
    private ServerSocket mute;
    private DatagramSocket deadDns;
    private String originalRules;

    Attacks(Soak.Target target) {
        this.target = target;
        for (String kind : List.of("connect-fin", "connect-reset", "garbage", "long-line", "slowloris",
                "slowloris-shed", "silent-backend", "dead-dns", "admin-slow-headers", "admin-pipelining",
                "admin-oversized", "reload-storm", "reload-huge-certificate")) {
            counts.put(kind, new AtomicInteger());
        }
    }

    List<Future<?>> start(ExecutorService pool, long end) throws IOException {
        originalRules = Files.readString(target.rules());
        mute = new ServerSocket();
        mute.setReuseAddress(true);
        mute.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), target.mutePort()), 200);
        deadDns = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), target.deadDnsPort()));
        List<Future<?>> running = new ArrayList<>();
        running.add(pool.submit(() -> muteServer(end)));
        running.add(pool.submit(() -> every(end, 1000, this::flood)));
        running.add(pool.submit(() -> every(end, 500, this::garbage)));
        running.add(pool.submit(() -> every(end, 2000, this::longLine)));
        running.add(pool.submit(() -> slowloris(end)));
        running.add(pool.submit(() -> every(end, 3000, this::silentBackend)));
        running.add(pool.submit(() -> every(end, 3000, this::deadDns)));
        running.add(pool.submit(() -> slowAdmin(end)));
        running.add(pool.submit(() -> pipeliningAdmin(end)));
        running.add(pool.submit(() -> every(end, 2000, this::oversizedAdmin)));
        running.add(pool.submit(() -> every(end, 15_000, this::reloadStorm)));
        return running;
    }

    /** Stops every loop; the rules file gets its content back. */
    void stop() {
        stopped = true;
        Soak.closeQuietly(mute);
        if (deadDns != null) {
            deadDns.close();
        }
        try {
            if (originalRules != null) {
                Files.writeString(target.rules(), originalRules);
            }
        } catch (IOException e) {
            System.out.println("soak: could not restore " + target.rules() + ": " + e);
        }
    }

    int total() {
        return counts.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    int surprises() {
        return surprises.get();
    }

    String summary() {
        StringBuilder s = new StringBuilder("hostile:");
        counts.forEach((k, v) -> s.append(' ').append(k).append(' ').append(v).append(';'));
        return s.toString();
    }

    String surpriseSummary() {
        synchronized (surprising) {
            return surprises.get() + " surprise(s)"
                    + (surprising.isEmpty() ? "" : ": " + String.join("; ", surprising));
        }
    }

    private void surprise(String what) {
        surprises.incrementAndGet();
        if (surprising.size() < 10) {
            surprising.add(what);
        }
    }

    private boolean running(long end) {
        return !stopped && System.nanoTime() < end;
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    private void every(long end, long millis, Step step) {
        while (running(end)) {
            try {
                step.run();
            } catch (Exception e) {
                // the gateway closed on the attacker: expected; surprises are counted by the step itself
            }
            pause(end, millis);
        }
    }

    /** Sleeps {@code millis}, or less once the soak stops. */
    private void pause(long end, long millis) {
        long until = System.nanoTime() + millis * 1_000_000;
        while (running(end) && System.nanoTime() < until) {
            Soak.sleepQuietly(Math.min(200, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
        }
    }

    private Socket connect(String rule, int timeoutMillis) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target.port(rule)), 5000);
        s.setSoTimeout(timeoutMillis);
        return s;
    }

    /** 100 clients that connect and hang up at once: half with a FIN, half with a reset. */
    private void flood() throws IOException {
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 100 && running(Long.MAX_VALUE); i++) {
                Socket s = connect("pop3s", 1000);
                if (i % 2 == 0) {
                    s.shutdownOutput();
                    counts.get("connect-fin").incrementAndGet();
                } else {
                    s.setSoLinger(true, 0);
                    counts.get("connect-reset").incrementAndGet();
                }
                sockets.add(s);
            }
        } finally {
            sockets.forEach(Soak::closeQuietly);
        }
    }

    /** Random bytes where TLS is expected, and where commands are. */
    private void garbage() throws IOException {
        byte[] junk = new byte[2048];
        ThreadLocalRandom.current().nextBytes(junk);
        for (String rule : List.of("pop3s", "imap")) {
            try (Socket s = connect(rule, 5000)) {
                counts.get("garbage").incrementAndGet();
                s.getOutputStream().write(junk);
                drain(s.getInputStream());
            }
        }
    }

    /** A megabyte without a line end: the gateway closes at 16 KiB. */
    private void longLine() throws IOException {
        try (Socket s = connect("imap", 10_000)) {
            counts.get("long-line").incrementAndGet();
            byte[] a = new byte[64 * 1024];
            Arrays.fill(a, (byte) 'a');
            for (int i = 0; i < 16; i++) {
                s.getOutputStream().write(a);
            }
            drain(s.getInputStream());
        } catch (IOException closed) {
            // closed while still writing: what should happen
        }
    }

    /** Reads until the end of the stream or the socket's timeout. */
    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[8192];
        try {
            while (in.read(buf) >= 0) {
                // discard
            }
        } catch (SocketTimeoutException e) {
            // gave up waiting
        }
    }

    /** Keeps {@link #SLOWLORIS} STARTTLS clients on the attacked rule, each sending a byte every 2 s, never a line. */
    private void slowloris(long end) {
        List<Socket> open = new ArrayList<>();
        try {
            while (running(end)) {
                while (open.size() < SLOWLORIS && running(end)) {
                    try {
                        open.add(connect("imap-attacked", 50));
                        counts.get("slowloris").incrementAndGet();
                    } catch (IOException e) {
                        break;
                    }
                }
                for (Iterator<Socket> it = open.iterator(); it.hasNext();) {
                    Socket s = it.next();
                    try {
                        InputStream in = s.getInputStream();
                        byte[] buf = new byte[4096];
                        if (in.available() > 0) {
                            int n = in.read(buf);
                            String got = n > 0 ? new String(buf, 0, n, StandardCharsets.US_ASCII) : "";
                            if (got.contains("Too many connections waiting to log in")
                                    || got.contains("Idle too long before logging in")) {
                                counts.get("slowloris-shed").incrementAndGet();
                            }
                        }
                        s.getOutputStream().write('a');
                        s.getOutputStream().flush();
                    } catch (IOException closed) {
                        Soak.closeQuietly(s);
                        it.remove();
                    }
                }
                pause(end, 2000);
            }
        } finally {
            open.forEach(Soak::closeQuietly);
        }
    }

    /** A backend that accepts and never says a word; the gateway closes its side after the greeting timeout. */
    private void muteServer(long end) {
        while (running(end)) {
            try {
                Socket s = mute.accept();
                s.setSoTimeout(60_000);
                Thread t = new Thread(() -> {
                    try (s) {
                        drain(s.getInputStream());
                    } catch (IOException e) {
                        // the gateway hung up
                    }
                }, "soak-mute");
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    /** A client of the rule whose backend never greets: it must get the temporary error within the greeting timeout. */
    private void silentBackend() throws IOException {
        expectLine("mute", "-ERR [SYS/TEMP] The mail server did not answer", "silent-backend");
    }

    /** A client of the domain rule whose DNS server never answers: the temporary error after dns.timeout. */
    private void deadDns() throws IOException {
        expectLine("partners", "-ERR [SYS/TEMP] Cannot verify your host name now", "dead-dns");
    }

    private void expectLine(String rule, String prefix, String kind) throws IOException {
        counts.get(kind).incrementAndGet();
        try (Socket s = connect(rule, 10_000)) {
            byte[] buf = new byte[256];
            int n = s.getInputStream().read(buf);
            String got = n > 0 ? new String(buf, 0, n, StandardCharsets.US_ASCII) : "(closed)";
            if (!got.startsWith(prefix)) {
                surprise(kind + ": got " + got.trim());
            }
        } catch (SocketTimeoutException e) {
            surprise(kind + ": nothing within 10 s");
        }
    }

    private Socket admin(int timeoutMillis) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target.adminPort()), 5000);
        s.setSoTimeout(timeoutMillis);
        return s;
    }

    /** Admin connections that trickle a request head a byte a second; each is cut at the deadline and replaced. */
    private void slowAdmin(long end) {
        List<Socket> open = new ArrayList<>();
        try {
            while (running(end)) {
                while (open.size() < SLOW_ADMIN && running(end)) {
                    try {
                        Socket s = admin(50);
                        s.getOutputStream()
                                .write("GET /metrics HTTP/1.1\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
                        open.add(s);
                        counts.get("admin-slow-headers").incrementAndGet();
                    } catch (IOException e) {
                        break;
                    }
                }
                for (Iterator<Socket> it = open.iterator(); it.hasNext();) {
                    Socket s = it.next();
                    try {
                        if (s.getInputStream().available() > 0) {
                            throw new IOException("answered (408): done");
                        }
                        s.getOutputStream().write('a');
                    } catch (IOException closed) {
                        Soak.closeQuietly(s);
                        it.remove();
                    }
                }
                pause(end, 1000);
            }
        } finally {
            open.forEach(Soak::closeQuietly);
        }
    }

    /** One admin client pipelining thousands of requests without reading a byte, replaced every 20 s. */
    private void pipeliningAdmin(long end) {
        byte[] requests = "GET /metrics HTTP/1.1\r\nHost: soak\r\n\r\n".repeat(5000)
                .getBytes(StandardCharsets.US_ASCII);
        while (running(end)) {
            Socket s;
            try {
                s = admin(1000);
            } catch (IOException e) {
                Soak.sleepQuietly(1000);
                continue;
            }
            counts.get("admin-pipelining").incrementAndGet();
            Thread writer = new Thread(() -> {
                try {
                    s.getOutputStream().write(requests); // blocks once the gateway stops reading
                } catch (IOException closed) {
                    // replaced
                }
            }, "soak-pipelining");
            writer.setDaemon(true);
            writer.start();
            pause(end, 20_000);
            Soak.closeQuietly(s);
        }
    }

    /** A request with 20 KB of headers: 431. */
    private void oversizedAdmin() throws IOException {
        counts.get("admin-oversized").incrementAndGet();
        try (Socket s = admin(10_000)) {
            s.getOutputStream()
                    .write(("GET /metrics HTTP/1.1\r\nHost: soak\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            byte[] buf = new byte[64];
            int n = s.getInputStream().read(buf);
            String status = n > 0 ? new String(buf, 0, n, StandardCharsets.US_ASCII) : "(closed)";
            if (!status.startsWith("HTTP/1.1 431")) {
                surprise("admin-oversized: got " + status.lines().findFirst().orElse(status));
            }
        } catch (SocketTimeoutException e) {
            surprise("admin-oversized: no answer within 10 s");
        }
    }

    /**
     * Twenty rewrites of the rules file in a second (the watch reloads), reloads by POST and SIGHUP, then a reload
     * naming a 300 MB certificate, which must be refused, and the original rules back.
     */
    private void reloadStorm() throws Exception {
        counts.get("reload-storm").incrementAndGet();
        for (int i = 0; i < 20 && !stopped; i++) {
            Files.writeString(target.rules(), originalRules + "# storm " + System.nanoTime() + "\n");
            Soak.sleepQuietly(50);
        }
        for (int i = 0; i < 3 && !stopped; i++) {
            reload();
        }
        new ProcessBuilder("kill", "-HUP", String.valueOf(target.pid())).start().waitFor();
        if (stopped) {
            return;
        }
        counts.get("reload-huge-certificate").incrementAndGet();
        String huge = originalRules.replace("certificate: tls/soak.crt", "certificate: " + target.hugeCertificate());
        if (huge.equals(originalRules)) {
            surprise("reload-huge-certificate: the rules name no tls/soak.crt to replace");
            return;
        }
        Files.writeString(target.rules(), huge);
        HttpResponse<String> refused = reload();
        if (refused.statusCode() != 422 || !refused.body().contains("more than a certificate or key file may be")) {
            surprise("reload-huge-certificate: got " + refused.statusCode() + " " + refused.body().lines().findFirst()
                    .orElse(""));
        }
        Files.writeString(target.rules(), originalRules);
        HttpResponse<String> back = reload();
        if (back.statusCode() != 200) {
            surprise("reload back to the original rules: got " + back.statusCode() + " " + back.body());
        }
    }

    private HttpResponse<String> reload() throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target.adminPort() + "/-/reload"))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
