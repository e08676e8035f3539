package org.gatehouse.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.protection.Block;
import org.gatehouse.protection.Guards;
import org.gatehouse.rules.HostPort;
import org.gatehouse.tls.TlsContexts;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gatehouse blocks}: account protection's blocks in force, from the running gateway's admin endpoint (on
 * loopback), or from the state it saved when none answers; {@code --unblock-address} and {@code --unblock-user} lift
 * one on the running gateway.
 */
@Command(name = "blocks", mixinStandardHelpOptions = true, description = {
        "List account protection's blocks in force (addresses refused before TLS, users refused from unfamiliar"
                + " addresses), or lift one.",
        "Asks the running gateway's admin endpoint (admin.listen, on loopback); without one, lists what it saved in"
                + " stateDir."})
final class BlocksCommand implements Callable<Integer> {

    @Mixin
    RulesOption rules;

    @ArgGroup(exclusive = true)
    Unblock unblock;

    static final class Unblock {
        @Option(names = "--unblock-address", paramLabel = "ADDRESS", description = "Lift the block on a client address.")
        String address;

        @Option(names = "--unblock-user", paramLabel = "USER", description = "Lift the block on a user.")
        String user;
    }

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        RulesSnapshot snapshot = rules.load(TlsContexts.Mode.CHECK, err);
        if (snapshot == null) {
            return Main.EXIT_INVALID_RULES;
        }
        snapshot.tls().release();
        HostPort admin = snapshot.rules().service().admin().orElse(null);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
        String base = admin == null ? null : "http://" + hostOf(admin) + ":" + admin.port();
        try {
            if (unblock != null) {
                if (base == null) {
                    err.println("admin.enabled is false: blocks can be lifted only through the admin endpoint");
                    err.flush();
                    return 1;
                }
                String query = unblock.address != null
                        ? "address=" + URLEncoder.encode(unblock.address, StandardCharsets.UTF_8)
                        : "user=" + URLEncoder.encode(unblock.user, StandardCharsets.UTF_8);
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/-/unblock?" + query))
                        .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                (r.statusCode() == 200 ? out : err).print(r.body());
                out.flush();
                err.flush();
                return r.statusCode() == 200 ? 0 : 1;
            }
            if (base != null) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/blocks"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    print(out, r.body(), "from the running gateway at " + base);
                    return 0;
                }
            }
        } catch (IOException e) {
            if (unblock != null) {
                err.println("no gateway answers at " + base + " (" + e.getMessage() + "): blocks are lifted on the"
                        + " running gateway");
                err.flush();
                return 1;
            }
        }
        List<Block> saved = Guards.savedBlocks(snapshot.rules().stateDir());
        print(out, Block.tsv(saved), "saved in " + snapshot.rules().stateDir() + " (no gateway answered)");
        return 0;
    }

    private static String hostOf(HostPort admin) {
        String host = admin.host();
        if (host.equals("0.0.0.0")) {
            return "127.0.0.1";
        }
        if (host.equals("::") || host.equals("[::]")) {
            return "[::1]";
        }
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private static void print(PrintWriter out, String tsv, String source) {
        String[] lines = tsv.split("\n");
        if (lines.length <= 1) {
            out.println("No blocks in force (" + source + ").");
            out.flush();
            return;
        }
        String format = "%-8s  %-39s  %-16s  %-20s  %-20s  %-20s%n";
        out.printf(format, "KIND", "ADDRESS OR USER", "RULE", "REASON", "SINCE", "UNTIL");
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split("\t", -1);
            if (f.length == 6) {
                out.printf(format, f[0], f[1], f[2], f[3], seconds(f[4]), seconds(f[5]));
            }
        }
        out.println();
        out.println((lines.length - 1) + " block(s) " + source);
        out.flush();
    }

    private static String seconds(String instant) {
        try {
            return Instant.parse(instant).truncatedTo(ChronoUnit.SECONDS).toString();
        } catch (RuntimeException e) {
            return instant;
        }
    }
}
