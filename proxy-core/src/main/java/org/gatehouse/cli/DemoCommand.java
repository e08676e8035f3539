package org.gatehouse.cli;

import io.netty.util.NetUtil;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.demo.DemoMailbox;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.session.Transport;
import org.gatehouse.tls.TlsContexts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code gatehouse demo}: the rules file as it is, except that every POP3, IMAP and SMTP rule relays to a built-in
 * in-memory demo mail server instead of its backend, so the gateway can be tried with nothing else installed.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Run the gateway on a rules file with a built-in DEMO mail server (in memory, one user) "
        + "standing in for every POP3, IMAP and SMTP backend.")
final class DemoCommand implements Callable<Integer> {

    @Mixin
    RulesOption rules;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        RulesSnapshot loaded = rules.load(TlsContexts.Mode.RUN, spec.commandLine().getErr());
        if (loaded == null) {
            return Main.EXIT_INVALID_RULES;
        }
        DemoMailServer demo = DemoMailServer.start(Transport.detect());
        Runtime.getRuntime().addShutdownHook(new Thread(demo::close, "gatehouse-demo-shutdown"));
        UnaryOperator<RulesSnapshot> toDemo = snapshot -> new RulesSnapshot(withDemoBackends(snapshot.rules(), demo),
                snapshot.tls());
        printBanner(toDemo.apply(loaded).rules(), spec.commandLine().getOut());
        return RunCommand.serve(loaded, rules, toDemo, spec);
    }

    /** Every mail rule relays to the demo server of its protocol; tcp rules keep their backends. */
    private static PublishingRules withDemoBackends(PublishingRules original, DemoMailServer demo) {
        List<Rule> replaced = new ArrayList<>();
        for (Rule r : original.rules()) {
            replaced.add(r.protocol() == Protocol.TCP
                    ? r
                    : r.withBackendServers(List.of(hostPort(demo.address(r.protocol())))));
        }
        return original.withRules(replaced);
    }

    private static HostPort hostPort(InetSocketAddress address) {
        return new HostPort(NetUtil.toAddressString(address.getAddress()), address.getPort());
    }

    private static void printBanner(PublishingRules rules, PrintWriter out) {
        String user = DemoMailbox.USER + ':' + DemoMailbox.PASSWORD;
        out.println("=== Gatehouse DEMO ===");
        out.println("Rules from " + rules.source() + ", with every POP3, IMAP and SMTP backend replaced by a built-in");
        out.println("in-memory DEMO mail server (user " + DemoMailbox.USER + ", password " + DemoMailbox.PASSWORD
                + "). The certificate is self-signed, hence -k.");
        out.println("Try, in another terminal:");
        for (Rule r : rules.enabledRules()) {
            HostPort at = r.listen().get(0);
            boolean implicit = r.tls().mode() == TlsMode.IMPLICIT;
            boolean starttls = r.tls().mode() == TlsMode.STARTTLS;
            String scheme = r.protocol().configName() + (implicit ? "s" : "");
            // --ssl-reqd: curl upgrades with STLS/STARTTLS, and refuses to go on in clear text.
            String curl = "curl -k " + (starttls ? "--ssl-reqd " : "");
            String url = scheme + "://" + at;
            switch (r.protocol()) {
                case POP3 -> out.println("  " + curl + url + "/1 -u " + user);
                case IMAP -> out.println("  " + curl + "'" + url + "/INBOX;MAILINDEX=1' -u " + user);
                case SMTP ->
                    out.println("  printf 'Subject: hello\\r\\n\\r\\nHello through Gatehouse\\r\\n' | " + curl + url
                            + " --mail-from you@demo.test --mail-rcpt " + DemoMailbox.USER + "@demo.test -u " + user
                            + " -T -");
                case TCP -> {
                    continue;
                }
            }
            if (implicit) {
                out.println("  openssl s_client -quiet -crlf -connect " + at + "    # then type commands by hand");
            } else if (starttls) {
                out.println("  openssl s_client -quiet -crlf -starttls " + r.protocol().configName() + " -connect " + at
                        + "    # then type commands by hand");
            }
        }
        rules.service().admin().ifPresent(admin -> out.println("Metrics: curl -s http://" + admin + "/metrics"
                + "    Edit and save " + rules.source().getFileName() + " to reload it."));
        out.println("Stop with Ctrl-C.");
        out.flush();
    }
}
