package org.gatehouse.access;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.dns.DnsRecordType;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.rules.Protocol;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.LogCapture;
import org.gatehouse.testing.TestDnsServer;
import org.gatehouse.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Domain allow and deny lists over real loopback sockets: clients connect from different 127.0.0.x addresses (and ::1),
 * and a DNS server on loopback answers for them with PTR, A and AAAA records, NXDOMAIN, or nothing at all.
 */
class ReverseDnsAccessIntegrationTest {

    private static final String GREETING = "+OK Gatehouse DEMO POP3";

    @TempDir
    Path dir;

    private DemoMailServer backend;
    private TestDnsServer dns;
    private TestGateway gateway;

    @BeforeEach
    void start() throws Exception {
        backend = DemoMailServer.start(Transport.detect());
        dns = TestDnsServer.start();
        dns.ptr("127.0.0.2", "mail.contoso.com", 300).address("mail.contoso.com", "127.0.0.2", 300);
        dns.ptr("127.0.0.3", "host3.eu.partner.example", 300).address("host3.eu.partner.example", "127.0.0.3", 300);
        dns.ptr("127.0.0.4", "mail.contoso.com", 300); // a spoof: mail.contoso.com does not point back at .4
        dns.silentFor("127.0.0.6");
        dns.ptr("127.0.0.8", "h8.dialup.example", 300).address("h8.dialup.example", "127.0.0.8", 300);
        dns.ptr("::1", "v6.partner.example", 300).address("v6.partner.example", "::1", 300);
        String pop3 = hostPort(backend.address(Protocol.POP3));
        String smtp = hostPort(backend.address(Protocol.SMTP));
        gateway = TestGateway.start(dir, TestGateway.CERTIFICATES + """
                dns:
                  servers: ["%s"]
                  timeout: 500ms
                clientSets:
                  partners:
                    domains: [contoso.com, partner.example]
                  dialup:
                    domains: [dialup.example]
                rules:
                  - name: partners
                    listen: ["127.0.0.1:0", "[::1]:0"]
                    protocol: pop3
                    tls: none
                    login: plaintext-allowed
                    backend: ["%s"]
                    access: { allow: [partners] }
                  - name: partners-tls
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    certificate: test
                    backend: ["%s"]
                    access: { allow: [partners] }
                  - name: addresses-only
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    login: plaintext-allowed
                    backend: ["%s"]
                    access: { allow: [127.0.0.0/8] }
                  - name: no-dialup
                    listen: ["127.0.0.1:0"]
                    protocol: smtp
                    tls: none
                    login: plaintext-allowed
                    backend: ["%s"]
                    access: { deny: [dialup] }
                """.formatted(dns.hostPort(), pop3, pop3, pop3, smtp));
        LogCapture.clear();
    }

    @AfterEach
    void stop() {
        gateway.close();
        dns.close();
        backend.close();
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /** A plain connection to {@code rule}'s listener of the client's family, made from {@code client}. */
    private Socket connectFrom(String rule, String client) throws IOException {
        InetAddress from = InetAddress.getByName(client);
        InetSocketAddress to = gateway.gateway().listeners().stream()
                .filter(l -> l.rule().equals(rule) && l.address().getAddress().getClass() == from.getClass())
                .findFirst().orElseThrow().address();
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(from, 0));
        socket.connect(to, 10_000);
        socket.setSoTimeout(20_000);
        return socket;
    }

    /** The first line a client from {@code client} gets from {@code rule}, or null when it is closed without one. */
    private String firstLine(String rule, String client) throws IOException {
        try (LineClient c = new LineClient(connectFrom(rule, client))) {
            return c.readLine();
        }
    }

    private double counter(String name, String... tags) {
        return gateway.counter(name, tags);
    }

    private String accessLine(String client) throws InterruptedException {
        String prefix = "gatehouse.access rule=";
        Eventually.until("an access line for " + client, () -> LogCapture.lines().stream()
                .anyMatch(l -> l.startsWith(prefix) && l.contains(" client=" + client + ":")));
        return LogCapture.lines().stream().filter(l -> l.startsWith(prefix) && l.contains(" client=" + client + ":"))
                .findFirst().orElseThrow();
    }

    @Test
    void clientsInAnAllowedDomainOrItsSubdomainsAreAdmitted() throws Exception {
        assertThat(firstLine("partners", "127.0.0.2")).startsWith(GREETING);
        assertThat(firstLine("partners", "127.0.0.3")).startsWith(GREETING);

        assertThat(accessLine("127.0.0.2")).contains(" rdns=verified name=mail.contoso.com ");
        assertThat(accessLine("127.0.0.3")).contains(" rdns=verified name=host3.eu.partner.example ");
        assertThat(counter("gatehouse.dns.lookups", "result", "verified")).isEqualTo(2);
    }

    @Test
    void anIpv6ClientIsConfirmedByItsAaaaRecord() throws Exception {
        assertThat(firstLine("partners", "::1")).startsWith(GREETING);
        assertThat(dns.count(DnsRecordType.AAAA)).isEqualTo(1);
    }

    @Test
    void aSpoofedPtrWithoutTheForwardRecordIsDenied() throws Exception {
        assertThat(firstLine("partners", "127.0.0.4")).isEqualTo("-ERR Access denied");

        assertThat(accessLine("127.0.0.4")).contains(" rdns=not-confirmed name=mail.contoso.com ")
                .contains(" outcome=denied reason=not-allowed");
        assertThat(counter("gatehouse.connections.rejected", "rule", "partners", "reason", "not-allowed")).isEqualTo(1);
        assertThat(counter("gatehouse.dns.lookups", "result", "not-confirmed")).isEqualTo(1);
        assertThat(backend.receivedLines()).isEmpty();
    }

    @Test
    void aClientWithoutANameIsDenied() throws Exception {
        assertThat(firstLine("partners", "127.0.0.5")).isEqualTo("-ERR Access denied");
        assertThat(accessLine("127.0.0.5")).contains(" rdns=nxdomain name=- ");
    }

    @Test
    void aDnsServerThatNeverAnswersGetsTheClientATemporaryRefusal() throws Exception {
        assertThat(firstLine("partners", "127.0.0.6"))
                .isEqualTo("-ERR [SYS/TEMP] Cannot verify your host name now, try again later");

        assertThat(accessLine("127.0.0.6")).contains(" rdns=timeout ").contains(" reason=dns-failure");
        assertThat(counter("gatehouse.connections.rejected", "rule", "partners", "reason", "dns-failure")).isEqualTo(1);
        assertThat(counter("gatehouse.dns.lookups", "result", "timeout")).isEqualTo(1);
    }

    @Test
    void aDeniedDomainIsRefusedWhileOtherClientsGetIn() throws Exception {
        try (LineClient c = new LineClient(connectFrom("no-dialup", "127.0.0.8"))) {
            assertThat(c.readLine()).isEqualTo("554 5.7.1 Access denied");
            assertThat(c.readLine()).isNull();
        }
        try (LineClient c = new LineClient(connectFrom("no-dialup", "127.0.0.2"))) {
            assertThat(c.readLine()).startsWith("220 ");
        }
        assertThat(counter("gatehouse.connections.rejected", "rule", "no-dialup", "reason", "deny-domain"))
                .isEqualTo(1);
    }

    @Test
    void overImplicitTlsAnAllowedClientShakesHandsAndADeniedOneSeesOnlyTheClose() throws Exception {
        try (SSLSocket tls = gateway.upgrade(connectFrom("partners-tls", "127.0.0.2"));
                LineClient c = new LineClient(tls)) {
            assertThat(c.readLine()).startsWith(GREETING);
        }
        try (Socket denied = connectFrom("partners-tls", "127.0.0.5")) {
            InputStream in = denied.getInputStream();
            assertThat(in.read()).as("no byte, not even a TLS alert, before the close").isEqualTo(-1);
        }
    }

    @Test
    void answersAreCachedAndConcurrentClientsShareOneLookup() throws Exception {
        dns.hold();
        List<LineClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                clients.add(new LineClient(connectFrom("partners", "127.0.0.3")));
            }
            Eventually.until("two connections joined the first one's lookup",
                    () -> counter("gatehouse.dns.lookups", "result", "joined") == 2);
            dns.release();
            for (LineClient c : clients) {
                assertThat(c.readLine()).startsWith(GREETING);
            }
        } finally {
            for (LineClient c : clients) {
                c.close();
            }
        }
        assertThat(firstLine("partners", "127.0.0.3")).startsWith(GREETING);

        assertThat(dns.count(DnsRecordType.PTR)).isEqualTo(1);
        assertThat(dns.count(DnsRecordType.A)).isEqualTo(1);
        assertThat(counter("gatehouse.dns.lookups", "result", "cache-hit")).isEqualTo(1);
    }

    @Test
    void aRuleWithoutDomainsMakesNoQueryEvenWhileDnsIsDeadOrStuck() throws Exception {
        dns.hold(); // the lookup for the partners client below never finishes while this test talks to the other rule
        try (LineClient stuck = new LineClient(connectFrom("partners", "127.0.0.2"))) {
            Eventually.until("the partners client's PTR query reached the server",
                    () -> dns.count(DnsRecordType.PTR) == 1);

            dns.silent(true);
            for (String client : List.of("127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.9")) {
                assertThat(firstLine("addresses-only", client)).startsWith(GREETING);
            }
            assertThat(dns.questions()).hasSize(1);
            assertThat(stuck.socket().getInputStream().available()).as("the stuck client still waits").isZero();
        }
        assertThat(counter("gatehouse.connections.accepted", "rule", "addresses-only")).isEqualTo(4);
    }
}
