package org.gatehouse.bench.soak;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.gatehouse.testing.LineClient;

/**
 * The clients that must be served whatever the attacks do, each on its own rule to the real servers: POP3S (login,
 * STAT, RETR), IMAP with STARTTLS (login, SELECT) and submission with STARTTLS (AUTH PLAIN, one message), one session
 * after another until the deadline. Every read waits at most {@link #TIMEOUT_MILLIS}.
 */
final class GoodClients {

    static final int TIMEOUT_MILLIS = 20_000;
    private static final String[] KINDS = {"pop3s", "imap", "submission"};

    private final Soak.Target target;
    private final SSLSocketFactory tls = trustingAll();
    private final Map<String, AtomicInteger> served = new LinkedHashMap<>();
    private final Map<String, AtomicInteger> failed = new LinkedHashMap<>();
    private final Map<String, Long> slowestMillis = new ConcurrentHashMap<>();
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());

    GoodClients(Soak.Target target) {
        this.target = target;
        for (String kind : KINDS) {
            served.put(kind, new AtomicInteger());
            failed.put(kind, new AtomicInteger());
        }
    }

    List<Future<?>> start(ExecutorService pool, long end) {
        List<Future<?>> running = new ArrayList<>();
        for (String kind : KINDS) {
            running.add(pool.submit(() -> {
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    try {
                        switch (kind) {
                            case "pop3s" -> pop3s();
                            case "imap" -> imap();
                            default -> submission();
                        }
                        served.get(kind).incrementAndGet();
                        slowestMillis.merge(kind, (System.nanoTime() - t0) / 1_000_000, Math::max);
                    } catch (Exception | AssertionError e) {
                        failed.get(kind).incrementAndGet();
                        if (failures.size() < 10) {
                            failures.add(kind + " at " + Instant.now() + ": " + e);
                        }
                    }
                    Soak.sleepQuietly(250);
                }
            }));
        }
        return running;
    }

    int failures() {
        return failed.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    boolean allKindsServed() {
        return served.values().stream().allMatch(n -> n.get() > 0);
    }

    String summary() {
        StringBuilder s = new StringBuilder("good clients:");
        for (String kind : KINDS) {
            s.append(' ').append(kind).append(' ').append(served.get(kind)).append(" served (slowest ")
                    .append(slowestMillis.getOrDefault(kind, 0L)).append(" ms), ").append(failed.get(kind))
                    .append(" failed;");
        }
        synchronized (failures) {
            for (String f : failures) {
                s.append("\n  ").append(f);
            }
        }
        return s.toString();
    }

    private Socket plain(String rule) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), target.port(rule));
        s.setSoTimeout(TIMEOUT_MILLIS);
        return s;
    }

    private SSLSocket upgrade(Socket plain) throws IOException {
        SSLSocket s = (SSLSocket) tls.createSocket(plain, "localhost", plain.getPort(), true);
        s.setSoTimeout(TIMEOUT_MILLIS);
        s.startHandshake();
        return s;
    }

    private void pop3s() throws IOException {
        try (LineClient c = new LineClient(upgrade(plain("pop3s")))) {
            expect(c.readLine(), "+OK");
            expect(c.command("USER " + target.user()), "+OK");
            expect(c.command("PASS " + target.password()), "+OK");
            String stat = c.command("STAT");
            expect(stat, "+OK");
            if (!stat.startsWith("+OK 0 ")) {
                expect(c.command("RETR 1"), "+OK");
                long bytes = 0;
                String line;
                while (!".".equals(line = c.readLine())) {
                    if (line == null) {
                        throw new IOException("the message ended early, after " + bytes + " bytes");
                    }
                    bytes += line.length() + 2;
                }
            }
            expect(c.command("QUIT"), "+OK");
        }
    }

    private void imap() throws IOException {
        Socket plain = plain("imap");
        try (LineClient c = new LineClient(plain)) {
            expect(c.readLine(), "* OK");
            c.send("a1 STARTTLS");
            expect(untilTagged(c, "a1"), "a1 OK");
            try (LineClient t = new LineClient(upgrade(plain))) {
                t.send("a2 LOGIN \"" + target.user() + "\" \"" + target.password() + "\"");
                expect(untilTagged(t, "a2"), "a2 OK");
                t.send("a3 SELECT INBOX");
                expect(untilTagged(t, "a3"), "a3 OK");
                t.send("a4 LOGOUT");
                expect(untilTagged(t, "a4"), "a4 OK");
            }
        }
    }

    private void submission() throws IOException {
        Socket plain = plain("submission");
        try (LineClient c = new LineClient(plain)) {
            expect(c.readLine(), "220");
            c.send("EHLO soak.example.test");
            untilLast(c, "250");
            expect(c.command("STARTTLS"), "220");
            try (LineClient t = new LineClient(upgrade(plain))) {
                t.send("EHLO soak.example.test");
                untilLast(t, "250");
                String plainAuth = Base64.getEncoder().encodeToString(("\0" + target.user() + "\0" + target.password())
                        .getBytes(StandardCharsets.UTF_8));
                expect(t.command("AUTH PLAIN " + plainAuth), "235");
                expect(t.command("MAIL FROM:<" + target.user() + ">"), "250");
                expect(t.command("RCPT TO:<" + target.user() + ">"), "250");
                expect(t.command("DATA"), "354");
                t.send("From: <" + target.user() + ">\r\nSubject: soak\r\n\r\nOne message of the soak.\r\n.");
                expect(t.readLine(), "250");
                expect(t.command("QUIT"), "221");
            }
        }
    }

    private static String untilTagged(LineClient c, String tag) throws IOException {
        String line;
        while ((line = c.readLine()) != null) {
            if (line.startsWith(tag + " ")) {
                return line;
            }
        }
        throw new IOException("closed before the answer to " + tag);
    }

    private static void untilLast(LineClient c, String code) throws IOException {
        String line;
        while ((line = c.readLine()) != null) {
            if (line.startsWith(code + " ")) {
                return;
            }
            if (!line.startsWith(code + "-")) {
                throw new IOException("expected " + code + ", got \"" + line + "\"");
            }
        }
        throw new IOException("closed before " + code);
    }

    private static void expect(String line, String prefix) throws IOException {
        if (line == null || !line.startsWith(prefix)) {
            throw new IOException(
                    "expected \"" + prefix + "…\", got " + (line == null ? "the end" : "\"" + line + "\""));
        }
    }

    /** TLS that trusts the gateway's self-signed certificate, and any other: a harness on loopback, never a client. */
    static SSLSocketFactory trustingAll() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[]{new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            return context.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
