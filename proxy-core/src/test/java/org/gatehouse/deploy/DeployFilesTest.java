package org.gatehouse.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.gatehouse.demo.DemoMailServer;
import org.gatehouse.demo.DemoMailbox;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.load.RulesLoader;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.Eventually;
import org.gatehouse.testing.ExternalTool;
import org.gatehouse.testing.LineClient;
import org.gatehouse.testing.TestDnsServer;
import org.gatehouse.testing.TestGateway;
import org.gatehouse.testing.TestRules;
import org.gatehouse.tls.SelfSignedCertificates;
import org.gatehouse.tls.TlsContexts;
import org.gatehouse.tls.TlsEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files under deploy/ are checked by the tools that will read them, and name only what the gateway exports. */
class DeployFilesTest {

    private static final Path DEPLOY = Path.of("..", "deploy");

    @TempDir
    Path dir;

    @Test
    void systemdAcceptsTheUnit(@TempDir Path dir) throws Exception {
        ExternalTool.require("systemd-analyze");
        // systemd-analyze verify also wants the unit's commands to exist. The package installs /usr/bin/gatehouse
        // (deploy/debian/test-install proves it); here the unit is verified as it is, with that one path pointing at
        // a stand-in, so that the check does not depend on the package being installed on this machine.
        Path launcher = Files.writeString(dir.resolve("gatehouse"), "#!/bin/sh\n");
        launcher.toFile().setExecutable(true);
        String unit = Files.readString(DEPLOY.resolve("systemd/gatehouse.service"));
        assertThat(unit).contains("ExecStart=/usr/bin/gatehouse run");
        Path copy = Files.writeString(dir.resolve("gatehouse.service"), unit.replace("/usr/bin/gatehouse",
                launcher.toString()));
        ExternalTool.Result verify = ExternalTool.run(List.of("systemd-analyze", "verify", copy.toString()), "", 60);
        assertThat(verify.exitCode()).as(verify.output()).isZero();
        assertThat(verify.output()).as("no warnings either").isBlank();
    }

    @Test
    void promtoolAcceptsTheAlertsAndTheScrapeConfig() throws Exception {
        ExternalTool.require("promtool");
        for (List<String> check : List.of(List.of("rules", "gatehouse-alerts.yml"),
                List.of("config", "prometheus.yml"))) {
            ExternalTool.Result result = ExternalTool.run(List.of("promtool", "check", check.get(0),
                    DEPLOY.resolve("prometheus").resolve(check.get(1)).toAbsolutePath().toString()), "", 60);
            assertThat(result.exitCode()).as(check + ": " + result.output()).isZero();
        }
    }

    @Test
    void everyAlertHasAPromtoolUnitTestAndTheyPass() throws Exception {
        ExternalTool.require("promtool");
        Path tests = DEPLOY.resolve("prometheus/gatehouse-alerts.test.yml");
        Set<String> alerts = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^\\s*- alert: (\\w+)").matcher(
                Files.readString(DEPLOY.resolve("prometheus/gatehouse-alerts.yml")));
        while (m.find()) {
            alerts.add(m.group(1));
        }
        Set<String> tested = new TreeSet<>();
        Matcher t = Pattern.compile("(?m)^\\s*alertname: (\\w+)").matcher(Files.readString(tests));
        while (t.find()) {
            tested.add(t.group(1));
        }
        assertThat(tested).as("alerts with a unit test").containsExactlyElementsOf(alerts);

        ExternalTool.Result result = ExternalTool.run(List.of("promtool", "test", "rules",
                tests.toAbsolutePath().toString()), "", 120);
        assertThat(result.exitCode()).as(result.output()).isZero();
    }

    @Test
    void kubernetesManifestsParseAndTheirRulesPassCheck() throws Exception {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        JsonNode rulesText = null;
        Set<String> kinds = new TreeSet<>();
        try (Stream<Path> files = Files.list(DEPLOY.resolve("kubernetes"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
                JsonNode doc = yaml.readTree(file.toFile());
                kinds.add(doc.path("kind").asText());
                if (doc.path("kind").asText().equals("ConfigMap")) {
                    rulesText = doc.path("data").path("publishing-rules.yaml");
                }
            }
        }
        assertThat(kinds).containsExactlyInAnyOrder("ConfigMap", "Deployment", "Kustomization", "PodDisruptionBudget",
                "Secret", "Service");
        assertThat(rulesText).isNotNull();

        // As mounted in the pod: the ConfigMap in rules/, the TLS Secret in tls/ beside it.
        Path rules = Files.createDirectories(dir.resolve("rules")).resolve("publishing-rules.yaml");
        // stateDir as the pod has it (an emptyDir volume), here a folder the test may write whoever runs it.
        Files.writeString(rules, rulesText.asText().replace("stateDir: /var/lib/gatehouse",
                "stateDir: " + dir.resolve("state")));
        Path tls = Files.createDirectories(dir.resolve("tls"));
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();
        Files.writeString(tls.resolve("tls.crt"), SelfSignedCertificates.toPem(
                SelfSignedCertificates.selfSign(pair, List.of("mail.example.com"), Instant.now())));
        Files.writeString(tls.resolve("tls.key"), SelfSignedCertificates.toPem(
                new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null)));

        PublishingRules loaded = RulesLoader.load(rules);
        TlsContexts.build(loaded, TlsEngine.detect(), TlsContexts.Mode.CHECK).release();
        assertThat(loaded.enabledRules()).extracting(r -> r.name()).containsExactly("pop3s", "imaps", "submission");
        assertThat(loaded.service().admin().orElseThrow().port()).isEqualTo(9102);
        assertThat(loaded.service().readOnlyAdmin().orElseThrow().port()).isEqualTo(9103);
    }

    /**
     * The admin endpoint, which can reload, listens on loopback in every rules file shipped (conf/, the Kubernetes
     * ConfigMap, interop/); the Kubernetes probes and Prometheus go to the read-only listener instead.
     */
    @Test
    void everyShippedRulesFileKeepsTheAdminEndpointOnLoopbackAndKubernetesProbesTheReadOnlyListener() throws Exception {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        List<Path> files;
        try (Stream<Path> walk = Files.walk(Path.of("..", "conf"))) {
            files = new ArrayList<>(walk.filter(p -> p.toString().endsWith(".yaml")).toList());
        }
        files.add(Path.of("..", "interop", "publishing-rules.yaml"));
        List<JsonNode> rules = new ArrayList<>();
        for (Path file : files) {
            rules.add(yaml.readTree(file.toFile()));
        }
        JsonNode configMap = yaml.readTree(DEPLOY.resolve("kubernetes/configmap.yaml").toFile());
        JsonNode kubernetesRules = yaml.readTree(configMap.path("data").path("publishing-rules.yaml").asText());
        rules.add(kubernetesRules);
        for (JsonNode r : rules) {
            String listen = r.path("admin").path("listen").asText("127.0.0.1:9102");
            String host = listen.substring(0, listen.lastIndexOf(':')).replace("[", "").replace("]", "");
            assertThat(InetAddress.getByName(host).isLoopbackAddress()).as(listen).isTrue();
        }
        String readOnly = kubernetesRules.path("admin").path("readOnlyListen").asText();
        assertThat(readOnly).isEqualTo("0.0.0.0:9103");

        JsonNode deployment = yaml.readTree(DEPLOY.resolve("kubernetes/deployment.yaml").toFile());
        JsonNode pod = deployment.path("spec").path("template");
        JsonNode container = pod.path("spec").path("containers").get(0);
        String probePort = null;
        for (JsonNode port : container.path("ports")) {
            assertThat(port.path("containerPort").asInt()).as("no container port for the loopback admin")
                    .isNotEqualTo(9102);
            if (port.path("name").asText()
                    .equals(container.path("readinessProbe").path("httpGet").path("port").asText())) {
                probePort = port.path("containerPort").asText();
            }
        }
        assertThat(probePort).isEqualTo("9103");
        assertThat(container.path("livenessProbe").path("httpGet").path("port").asText())
                .isEqualTo(container.path("readinessProbe").path("httpGet").path("port").asText());
        assertThat(pod.path("metadata").path("annotations").path("prometheus.io/port").asText()).isEqualTo("9103");
    }

    /**
     * Every metric the dashboard and the alerts query is one the gateway exports: a gateway sees the traffic that makes
     * each appear (a TLS session, a refusal, a failed handshake, a dead backend, a clear-text login, a reverse-DNS
     * lookup, a refused reload), then its /metrics is searched for each name.
     */
    @Test
    void theDashboardAndAlertsQueryOnlyMetricsTheGatewayExports() throws Exception {
        Set<String> wanted = new TreeSet<>();
        Matcher m = Pattern.compile("\\b((?:gatehouse|process|jvm)_[a-z_]+)\\b").matcher(
                Files.readString(DEPLOY.resolve("grafana/gatehouse-dashboard.json"))
                        + Files.readString(DEPLOY.resolve("prometheus/gatehouse-alerts.yml")));
        while (m.find()) {
            wanted.add(m.group(1));
        }
        assertThat(wanted).contains("gatehouse_certificate_expiry_time_seconds",
                "gatehouse_connections_rejected_total");

        try (DemoMailServer backend = DemoMailServer.start(Transport.detect());
                TestDnsServer dns = TestDnsServer.start()) {
            var pop3 = backend.address(Protocol.POP3);
            String pop3At = pop3.getAddress().getHostAddress() + ":" + pop3.getPort();
            String dead;
            dead = "127.0.0.1:" + TestRules.freePort();
            try (TestGateway gateway = TestGateway.start(dir,
                    TestGateway.CERTIFICATES
                            // An ACME certificate (its CA is a closed port: the orders fail, the metrics exist).
                            + "  public:\n    acme: { directory: \"https://127.0.0.1:" + dead.split(":")[1]
                            + "/dir\", names: [mail.example.com], http01: \"127.0.0.1:0\" }\n"
                            + """
                                    dns: { servers: ["%s"], timeout: 500ms }
                                    clientSets:
                                      partners: { domains: [partner.example] }
                                    rules:
                                      - { name: pop3s, listen: ["127.0.0.1:0"], protocol: pop3, certificate: test, backend: ["%s"] }
                                      - { name: audit, listen: ["127.0.0.1:0"], protocol: pop3, tls: none, login: audit, backend: ["%s"],
                                          protection: { addressFailures: 2, tarpit: { initialDelay: 10ms, maxDelay: 20ms } } }
                                      - { name: dead, listen: ["127.0.0.1:0"], protocol: pop3, tls: none, backend: ["%s"] }
                                      - { name: acme, listen: ["127.0.0.1:0"], protocol: pop3, certificate: public, backend: ["%s"] }
                                      - name: partners
                                        listen: ["127.0.0.1:0"]
                                        protocol: pop3
                                        tls: none
                                        backend: ["%s"]
                                        access: { allow: [partners] }
                                    """
                                    .formatted(dns.hostPort(), pop3At, pop3At, dead, pop3At, pop3At))) {
                traffic(gateway);
                HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(gateway.adminUrl() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
                for (String name : wanted) {
                    assertThat(metrics.body()).as(name).containsPattern("(?m)^" + name + "[{ ]");
                }
            }
        }
    }

    private static void traffic(TestGateway gateway) throws Exception {
        try (LineClient c = new LineClient(gateway.tls("pop3s"))) {
            assertThat(c.readLine()).startsWith("+OK");
            assertThat(c.command("QUIT")).startsWith("+OK");
        }
        try (Socket notTls = gateway.plain("pop3s")) {
            notTls.getOutputStream().write("USER nobody\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(notTls.getInputStream().readAllBytes()).isNotNull();
        }
        try (LineClient c = new LineClient(gateway.plain("audit"))) {
            assertThat(c.readLine()).startsWith("+OK");
            assertThat(c.command("USER " + DemoMailbox.USER)).startsWith("+OK");
            assertThat(c.command("PASS " + DemoMailbox.PASSWORD)).startsWith("+OK");
        }
        try (LineClient c = new LineClient(gateway.plain("dead"))) {
            assertThat(c.readLine()).startsWith("-ERR [SYS/TEMP]");
        }
        try (LineClient c = new LineClient(gateway.plain("partners"))) {
            assertThat(c.readLine()).isEqualTo("-ERR Access denied");
        }
        try (LineClient c = new LineClient(gateway.plain("audit"))) { // account protection: a tarpit, then a block
            assertThat(c.readLine()).startsWith("+OK");
            for (String guess : List.of("guess-1", "guess-2")) {
                assertThat(c.command("USER " + DemoMailbox.USER)).startsWith("+OK");
                assertThat(c.command("PASS " + guess)).startsWith("-ERR");
            }
        }
        try (LineClient c = new LineClient(gateway.plain("audit"))) {
            assertThat(c.readLine()).startsWith("-ERR [SYS/TEMP] Too many failed logins");
        }
        Files.writeString(gateway.file(),
                Files.readString(gateway.file()).replace("protocol: pop3,", "protocol: pop,"));
        gateway.service().reloader().request("test").get();
        Eventually.until("the sessions are counted",
                () -> gateway.counter("gatehouse.logins.plaintext", "rule", "audit",
                        "action", "audited") == 3);
    }
}
