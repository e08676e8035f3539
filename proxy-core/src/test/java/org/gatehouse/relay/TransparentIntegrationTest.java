package org.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.gatehouse.cli.MainProcess;
import org.gatehouse.testing.ExternalTool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code transparent: true} in network namespaces the test creates (client, gateway, backend; the host's own network
 * is not touched): the backend sees the client's address, as the routing in docs/transparent.md arranges.
 * Needs root to create the namespaces; skipped, with the reason, without it.
 */
class TransparentIntegrationTest {

    private static final String CLIENT_IP = "10.78.0.2";
    private static final String GATEWAY_FRONT = "10.78.0.1";
    private static final String GATEWAY_BACK = "10.77.0.1";
    private static final String BACKEND_IP = "10.77.0.2";

    /** A POP3-looking backend that greets each client with the address it sees the connection come from. */
    private static final String BACKEND = """
            import socket, threading
            server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(('%s', 1110)); server.listen(16)
            def serve(conn, peer):
                with conn:
                    conn.sendall(('+OK peer=%%s\\r\\n' %% peer[0]).encode())
                    conn.recv(1024)
            while True:
                conn, peer = server.accept()
                threading.Thread(target=serve, args=(conn, peer), daemon=True).start()
            """.formatted(BACKEND_IP);

    private static final String CLIENT = """
            import socket, sys
            s = socket.create_connection(('%s', int(sys.argv[1])), 10)
            s.settimeout(10)
            print(s.makefile().readline().strip())
            s.sendall(b'QUIT\\r\\n')
            """.formatted(GATEWAY_FRONT);

    @TempDir
    Path dir;

    private final String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
    private final String client = "ghc" + suffix;
    private final String gatewayNs = "ghg" + suffix;
    private final String backendNs = "ghb" + suffix;
    private final List<Process> processes = new ArrayList<>();
    private boolean created;

    @BeforeEach
    void network() throws Exception {
        boolean root = "0"
                .equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).trim());
        if (!root) {
            System.out.println("SKIPPED TransparentIntegrationTest: creating network namespaces needs root");
        }
        Assumptions.assumeTrue(root, "creating network namespaces needs root");
        ExternalTool.require("ip");
        ExternalTool.require("python3");
        created = true;
        for (String ns : List.of(client, gatewayNs, backendNs)) {
            ip("netns", "add", ns);
            ip("-n", ns, "link", "set", "lo", "up");
        }
        link("c" + suffix, client, CLIENT_IP + "/24", "g" + suffix, gatewayNs, GATEWAY_FRONT + "/24");
        link("b" + suffix, backendNs, BACKEND_IP + "/24", "h" + suffix, gatewayNs, GATEWAY_BACK + "/24");
        ip("-n", client, "route", "add", "default", "via", GATEWAY_FRONT);
        ip("-n", backendNs, "route", "add", "default", "via", GATEWAY_BACK);
        // Replies from the backend network, addressed to clients, are delivered to the gateway's own sockets.
        ip("-n", gatewayNs, "rule", "add", "iif", "h" + suffix, "lookup", "100", "pref", "100");
        ip("-n", gatewayNs, "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "100");
    }

    private void link(String a, String nsA, String addrA, String b, String nsB, String addrB) throws Exception {
        ip("link", "add", a, "type", "veth", "peer", "name", b);
        ip("link", "set", a, "netns", nsA);
        ip("link", "set", b, "netns", nsB);
        ip("-n", nsA, "addr", "add", addrA, "dev", a);
        ip("-n", nsB, "addr", "add", addrB, "dev", b);
        ip("-n", nsA, "link", "set", a, "up");
        ip("-n", nsB, "link", "set", b, "up");
    }

    private static void ip(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        ExternalTool.Result r = ExternalTool.run(command, "", 30);
        assertThat(r.exitCode()).as(String.join(" ", command) + ": " + r.output()).isZero();
    }

    @AfterEach
    void teardown() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (created) {
            for (String ns : List.of(client, gatewayNs, backendNs)) {
                new ProcessBuilder("ip", "netns", "del", ns).start().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private Process start(String ns, Path output, String... command) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(command));
        Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        processes.add(p);
        return p;
    }

    private String clientGreeting(int port) throws Exception {
        ExternalTool.Result r = ExternalTool.run(List.of("ip", "netns", "exec", client, "python3", "-c", CLIENT,
                Integer.toString(port)), "", 30);
        assertThat(r.exitCode()).as(r.output()).isZero();
        return r.output().trim();
    }

    @Test
    void theBackendSeesTheClientsOwnAddress() throws Exception {
        start(backendNs, dir.resolve("backend.txt"), "python3", "-u", "-c", BACKEND);
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, """
                admin: { enabled: false }
                rules:
                  - name: transparent
                    listen: ["%1$s:10110"]
                    protocol: pop3
                    tls: none
                    login: plaintext-allowed
                    transparent: true
                    backend: ["%2$s:1110"]
                  - name: proxied
                    listen: ["%1$s:10111"]
                    protocol: pop3
                    tls: none
                    login: plaintext-allowed
                    backend: ["%2$s:1110"]
                """.formatted(GATEWAY_FRONT, BACKEND_IP));
        Path output = dir.resolve("gateway.txt");
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", gatewayNs));
        command.addAll(MainProcess.command("run", "--rules", rules.toString()));
        Process gateway = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        processes.add(gateway);
        MainProcess.awaitStarted(gateway, () -> Files.exists(output) ? Files.readString(output) : "");

        assertThat(clientGreeting(10110)).as("transparent: the client's address").isEqualTo("+OK peer=" + CLIENT_IP);
        assertThat(clientGreeting(10111)).as("without: the gateway's").isEqualTo("+OK peer=" + GATEWAY_BACK);
    }
}
