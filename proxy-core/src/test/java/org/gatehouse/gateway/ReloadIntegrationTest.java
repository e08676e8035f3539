package org.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.demo.DemoMailbox;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.gatehouse.tls.TlsContexts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live reload over real loopback sockets: listeners kept, removed and added; sessions in progress keep the rules they
 * were accepted under; invalid files change nothing; and clients keep connecting throughout.
 */
class ReloadIntegrationTest {

    private static final String GREETING = "+OK Gatehouse DEMO POP3";

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private TestGateway gateway;
    private String pop3;
    private int portA;
    private int portB;
    private int portC;

    @BeforeEach
    void start() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
        InetSocketAddress b = backend.address(Protocol.POP3);
        pop3 = b.getAddress().getHostAddress() + ":" + b.getPort();
        portA = TestRules.freePort();
        portB = TestRules.freePort();
        portC = TestRules.freePort();
        gateway = TestGateway.start(dir,
                rules(rule("a", portA, "plaintext-allowed"), rule("b", portB, "plaintext-allowed")));
    }

    @AfterEach
    void stop() {
        gateway.close();
        backend.close();
    }

    private static String rules(String... rules) {
        return "admin: { listen: \"127.0.0.1:0\" }\nrules:\n" + String.join("", rules);
    }

    private String rule(String name, int port, String login) {
        return """
                  - name: %s
                    listen: ["127.0.0.1:%d"]
                    protocol: pop3
                    tls: none
                    login: %s
                    backend: ["%s"]
                """.formatted(name, port, login, pop3);
    }

    private static LineClient connect(int port) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(20_000);
        return new LineClient(socket);
    }

    private Reloader.Outcome reload(String yaml) throws Exception {
        Files.writeString(gateway.file(), yaml);
        return gateway.service().reloader().request("test").get(30, TimeUnit.SECONDS);
    }

    @Test
    void listenersAreKeptRemovedAndAddedWhileSessionsKeepTheirRules() throws Exception {
        try (LineClient onA = connect(portA); LineClient onB = connect(portB)) {
            assertThat(onA.readLine()).startsWith(GREETING);
            assertThat(onB.readLine()).startsWith(GREETING);

            Reloader.Outcome outcome = reload(
                    rules(rule("a", portA, "secure-only"), rule("c", portC, "plaintext-allowed")));

            assertThat(outcome.success()).isTrue();
            assertThat(outcome.summary()).isEqualTo("listeners added=[c@127.0.0.1:" + portC + "] removed=[b@127.0.0.1:"
                    + portB + "] rules changed=[a]");
            assertThatThrownBy(() -> connect(portB)).isInstanceOf(ConnectException.class);
            assertThat(onB.command("NOOP")).as("a session on a removed listener runs on").startsWith("+OK");
            assertThat(onA.command("USER " + DemoMailbox.USER)).as("accepted under plaintext-allowed, kept")
                    .startsWith("+OK");
            try (LineClient newA = connect(portA); LineClient newC = connect(portC)) {
                assertThat(newA.readLine()).startsWith(GREETING);
                assertThat(newA.command("USER " + DemoMailbox.USER)).as("new rules: secure-only")
                        .startsWith("-ERR [AUTH]");
                assertThat(newC.readLine()).startsWith(GREETING);
            }
        }
        assertThat(gateway.gateway().listeners()).extracting(Gateway.Listener::rule).containsExactly("a", "c");
    }

    @Test
    void anInvalidFileChangesNothingAndSaysWhereEachProblemIs() throws Exception {
        Reloader.Outcome outcome = reload(rules(rule("a", portA, "sometimes"), rule("c", portC, "plaintext-allowed"))
                .replace("tls: none\n    login: plaintext-allowed", "tls: maybe\n    login: plaintext-allowed"));

        assertThat(outcome.success()).isFalse();
        assertThat(outcome.problems()).containsExactly(
                gateway.file()
                        + ":7:12: rules[0].login: \"sometimes\" (expected secure-only, audit or plaintext-allowed)",
                gateway.file() + ":12:10: rules[1].tls: \"maybe\" (expected implicit, starttls or none)");
        assertThat(gateway.gateway().listeners()).extracting(Gateway.Listener::rule).containsExactly("a", "b");
        try (LineClient b = connect(portB)) {
            assertThat(b.readLine()).startsWith(GREETING);
        }
        assertThat(gateway.counter("gatehouse.config.reloads", "result", "failure")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void lastReloadSuccessfulStaysZeroWhileTheRefusedFileIsThereAndReturnsToOneWhenFixed() throws Exception {
        assertThat(gauge("gatehouse.config.last.reload.successful")).as("the start counts").isEqualTo(1.0);

        assertThat(reload(rules(rule("a", portA, "sometimes"))).success()).isFalse();
        assertThat(gauge("gatehouse.config.last.reload.successful")).isEqualTo(0.0);
        assertThat(gateway.service().reloader().request("again").get(30, TimeUnit.SECONDS).success()).isFalse();
        assertThat(gauge("gatehouse.config.last.reload.successful")).as("the file is still refused").isEqualTo(0.0);

        assertThat(reload(rules(rule("a", portA, "plaintext-allowed"))).success()).isTrue();
        assertThat(gauge("gatehouse.config.last.reload.successful")).isEqualTo(1.0);
    }

    private double gauge(String name) {
        return gateway.registry().get(name).gauge().value();
    }

    @Test
    void anAddressThatCannotBeBoundChangesNothing() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Reloader.Outcome outcome = reload(rules(rule("a", portA, "plaintext-allowed"),
                    rule("c", taken.getLocalPort(), "plaintext-allowed")));

            assertThat(outcome.success()).isFalse();
            assertThat(outcome.summary()).contains("rule c: cannot listen on 127.0.0.1:" + taken.getLocalPort());
        }
        assertThat(gateway.gateway().listeners()).extracting(Gateway.Listener::rule).containsExactly("a", "b");
        try (LineClient b = connect(portB)) {
            assertThat(b.readLine()).startsWith(GREETING);
        }
    }

    @Test
    void aChangedFileIsReloadedWithoutBeingAsked() throws Exception {
        Files.writeString(gateway.file(),
                rules(rule("a", portA, "plaintext-allowed"), rule("b", portB, "plaintext-allowed"),
                        rule("c", portC, "plaintext-allowed")));

        Eventually.until("rule c is listening",
                () -> gateway.gateway().listeners().stream().anyMatch(l -> l.rule().equals("c")));
        try (LineClient c = connect(portC)) {
            assertThat(c.readLine()).startsWith(GREETING);
        }
    }

    /**
     * TLS contexts are native and reference-counted: a connection accepted before a reload still starts TLS with the
     * contexts of its own rules, and those are freed once the last such connection is gone.
     */
    @Test
    void aConnectionFromBeforeAReloadStartsTlsWithItsOwnContextsWhichAreThenFreed() throws Exception {
        gateway.close();
        String starttls = """
                  - name: s
                    listen: ["127.0.0.1:%d"]
                    protocol: pop3
                    tls: starttls
                    certificate: test
                    backend: ["%s"]
                """.formatted(portC, pop3);
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + rules(starttls));
        TlsContexts before = gateway.gateway().snapshot().tls();
        try (LineClient held = connect(portC)) {
            assertThat(held.readLine()).startsWith(GREETING);

            assertThat(reload(TestGateway.CERTIFICATES + rules(starttls, rule("a", portA, "plaintext-allowed")))
                    .success()).isTrue();
            assertThat(gateway.gateway().snapshot().tls()).isNotSameAs(before);
            assertThat(before.released()).as("still held by the connection accepted before the reload").isFalse();

            assertThat(held.command("STLS")).isEqualTo("+OK Begin TLS negotiation");
            try (LineClient tls = new LineClient(gateway.upgrade(held.socket()))) {
                assertThat(tls.command("NOOP")).startsWith("+OK");
            }
        }
        Eventually.until("the old TLS contexts are freed once their last connection is gone", before::released);
        try (LineClient fresh = connect(portC)) {
            assertThat(fresh.readLine()).startsWith(GREETING);
            assertThat(fresh.command("STLS")).isEqualTo("+OK Begin TLS negotiation");
            try (LineClient tls = new LineClient(gateway.upgrade(fresh.socket()))) {
                assertThat(tls.command("NOOP")).as("new connections use the new contexts").startsWith("+OK");
            }
        }
    }

    @Test
    void reloadingACertificateRegistersItsExpiryGaugeOnceWithoutAWarning() throws Exception {
        gateway.close();
        String tlsRule = """
                  - name: s
                    listen: ["127.0.0.1:%d"]
                    protocol: pop3
                    certificate: test
                    backend: ["%s"]
                """.formatted(portC, pop3);
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + rules(tlsRule));
        LogCapture.clear();

        assertThat(reload(TestGateway.CERTIFICATES + rules(tlsRule)).success()).isTrue();
        assertThat(reload(TestGateway.CERTIFICATES + rules(tlsRule, rule("a", portA, "audit"))).success()).isTrue();

        assertThat(LogCapture.lines()).noneMatch(l -> l.contains("already registered"));
        assertThat(gateway.registry().find("gatehouse.certificate.expiry.time").gauges()).hasSize(1);
    }

    /**
     * A log written into the rules folder every 20 ms, faster than the watch's quiet period: if the watch counted it,
     * the rules change would wait for a quiet moment that never comes.
     */
    @Test
    void aBusyNeighbourInTheFolderDoesNotPostponeAReload() throws Exception {
        Path neighbour = gateway.file().resolveSibling("gatehouse.log");
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> {
            for (int i = 0; writing.get() && i < 5_000; i++) { // bounded: 5,000 lines, 100 s at most
                try {
                    Files.writeString(neighbour, "line " + i + "\n", StandardOpenOption.CREATE,
                            StandardOpenOption.APPEND);
                    Thread.sleep(20);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        }, "neighbour-log");
        writer.start();
        try {
            Thread.sleep(200);
            Files.writeString(gateway.file(), rules(rule("a", portA, "plaintext-allowed"),
                    rule("b", portB, "plaintext-allowed"), rule("c", portC, "plaintext-allowed")));

            Eventually.until("rule c is listening while the neighbour keeps writing",
                    () -> gateway.gateway().listeners().stream().anyMatch(l -> l.rule().equals("c")));
            assertThat(writer.isAlive()).as("the neighbour was still writing").isTrue();
        } finally {
            writing.set(false);
            writer.join(5_000);
        }
    }

    @Test
    void onlyTheRulesFileAndItsSymlinkStepsConcernTheWatch() throws Exception {
        Reloader reloader = gateway.service().reloader();
        assertThat(reloader.concernsRulesFile(gateway.file().getFileName())).isTrue();
        assertThat(reloader.concernsRulesFile(Path.of("..data"))).isTrue();
        assertThat(reloader.concernsRulesFile(Path.of("gatehouse.log"))).isFalse();
        assertThat(reloader.concernsRulesFile(Path.of("plaintext-logins.tsv"))).isFalse();

        Path target = Files.writeString(gateway.file().resolveSibling("real-rules.yaml"),
                Files.readString(gateway.file()));
        Files.delete(gateway.file());
        Files.createSymbolicLink(gateway.file(), target.getFileName());
        assertThat(reloader.concernsRulesFile(Path.of("real-rules.yaml"))).as("the file a symlink points to").isTrue();
    }

    /**
     * As the kubelet updates a mounted ConfigMap: the rules file is a symlink through {@code ..data}, and an update
     * writes a new folder and swaps {@code ..data} by renaming a new symlink over it. The file itself is never written.
     */
    @Test
    void aConfigMapStyleSymlinkSwapIsReloaded() throws Exception {
        Path folder = gateway.file().getParent();
        Path first = Files.createDirectory(folder.resolve("..2026_11_24_01"));
        Files.writeString(first.resolve("rules.yaml"), Files.readString(gateway.file()));
        Files.createSymbolicLink(folder.resolve("..data"), first.getFileName());
        Path link = folder.resolve("rules.yaml.link");
        Files.createSymbolicLink(link, Path.of("..data", "rules.yaml"));
        Files.move(link, gateway.file(), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        assertThat(Files.isSymbolicLink(gateway.file())).isTrue();

        Path second = Files.createDirectory(folder.resolve("..2026_11_24_02"));
        Files.writeString(second.resolve("rules.yaml"), rules(rule("a", portA, "plaintext-allowed"),
                rule("b", portB, "plaintext-allowed"), rule("c", portC, "plaintext-allowed")));
        Path newData = Files.createSymbolicLink(folder.resolve("..data_tmp"), second.getFileName());
        Files.move(newData, folder.resolve("..data"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);

        Eventually.until("rule c is listening",
                () -> gateway.gateway().listeners().stream().anyMatch(l -> l.rule().equals("c")));
        try (LineClient c = connect(portC)) {
            assertThat(c.readLine()).startsWith(GREETING);
        }
    }

    /**
     * Five sessions stay open and a client thread keeps connecting while the file is rewritten forty times, valid and
     * invalid in turn: no connection may fail and no session may drop.
     */
    @Test
    void reloadsNeverRefuseAConnectionNorDropASession() throws Exception {
        List<LineClient> held = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            LineClient c = connect(i % 2 == 0 ? portA : portB);
            assertThat(c.readLine()).startsWith(GREETING);
            held.add(c);
        }
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger connections = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread clients = new Thread(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (running.get() && connections.get() < 5000 && System.nanoTime() < deadline) {
                try (LineClient c = connect(connections.get() % 2 == 0 ? portA : portB)) {
                    String greeting = c.readLine();
                    if (greeting == null || !greeting.startsWith(GREETING)) {
                        throw new AssertionError("connection " + connections.get() + " got " + greeting);
                    }
                    String bye = c.command("QUIT");
                    if (!bye.startsWith("+OK")) {
                        throw new AssertionError("connection " + connections.get() + " got " + bye + " to QUIT");
                    }
                    connections.incrementAndGet();
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                    return;
                }
            }
        }, "reload-test-clients");
        clients.start();
        try {
            String valid1 = rules(rule("a", portA, "plaintext-allowed"), rule("b", portB, "plaintext-allowed"));
            String valid2 = rules(rule("b", portB, "audit"), rule("a", portA, "audit"));
            String invalid = valid1.replace("protocol: pop3", "protocol: pop");
            int successes = 0;
            for (int i = 0; i < 40 && failure.get() == null; i++) {
                String next = i % 3 == 2 ? invalid : i % 2 == 0 ? valid2 : valid1;
                int before = connections.get();
                Reloader.Outcome outcome = reload(next);
                assertThat(outcome.success()).as("reload %d", i).isEqualTo(next != invalid);
                successes += outcome.success() ? 1 : 0;
                // Interleave for sure: some clients complete between one reload and the next.
                Eventually.until("clients connect after reload " + i,
                        () -> connections.get() >= before + 2 || failure.get() != null);
            }
            assertThat(successes).isGreaterThan(20);
        } finally {
            running.set(false);
            clients.join(30_000);
        }
        assertThat(failure.get()).as("a client failed").isNull();
        assertThat(connections.get()).isGreaterThan(0);
        for (LineClient c : held) {
            assertThat(c.command("NOOP")).as("held session still served").startsWith("+OK");
            assertThat(c.command("QUIT")).startsWith("+OK");
            c.close();
        }
    }
}
