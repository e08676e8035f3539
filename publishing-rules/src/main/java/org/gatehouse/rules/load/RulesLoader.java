package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.child;
import static org.gatehouse.rules.load.NodeReader.index;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.ClientSet;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.ServiceSettings;
import org.gatehouse.rules.SmtpSettings;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.rules.LoginPolicy;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.ConfigWord;
import org.gatehouse.rules.TlsPolicy;
import org.gatehouse.rules.TlsSettings;
import org.gatehouse.rules.load.NodeReader.Item;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.ListNode;
import org.gatehouse.rules.load.YamlNode.MapNode;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.DomainSet;

/**
 * Reads a publishing-rules file into a validated {@link PublishingRules}.
 *
 * <p>Every problem in the file is collected and reported at once, each with file:line:column and the key path; a file
 * with any problem yields no rules at all, so a gateway never starts (or reloads) half-configured.
 *
 * <p>Checks that need cryptography (does the key match the certificate?) are not made here: the model knows where the
 * material is, the gateway's TLS layer loads it and reports against {@link CertificateSource#position()}.
 */
public final class RulesLoader {

    /** The state folder when the file names none: beside the rules file. */
    public static final String DEFAULT_STATE_DIR = "state";

    private static final Set<String> TOP_KEYS = Set.of("stateDir", "admin", "shutdownGracePeriod", "accessLog", "dns",
            "limits", "certificates", "clientSets", "rules");
    private static final Set<String> BACKEND_KEYS = Set.of("servers", "balance", "connectTimeout", "healthCheck",
            "sendProxyProtocol", "greetingTimeout");
    private static final Set<String> HEALTH_CHECK_KEYS = Set.of("interval", "timeout", "rise", "fall");
    private static final Set<String> ACCEPT_PROXY_KEYS = Set.of("from");
    private static final Set<String> RULE_KEYS = Set.of("name", "enabled", "listen", "protocol", "tls", "certificate",
            "login", "challengeResponseWithoutTls", "smtp", "backend", "access", "limits", "acceptProxyProtocol", "transparent",
            "tlsPolicy", "protocols", "ciphers", "publicName", "clientCertificate");
    private static final Set<String> TLS_KEYS = Set.of("tlsPolicy", "protocols", "ciphers", "publicName",
            "clientCertificate");
    private static final Set<String> CLIENT_CERT_KEYS = Set.of("mode", "trust");
    private static final List<String> TLS_VERSIONS = List.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");
    /** Cipher name parts that mean under 128 bits of strength, or no encryption or authentication at all. */
    private static final List<String> WEAK_CIPHER_PARTS = List.of("NULL", "EXPORT", "_DES_", "DES40", "3DES", "DES_EDE",
            "RC4", "RC2", "_anon_", "IDEA", "SEED");
    private static final Set<String> ACCESS_KEYS = Set.of("allow", "deny");
    private static final Set<String> SMTP_KEYS = Set.of("bareLineEndings");

    private final LoadContext ctx;
    private final NodeReader in;
    private final LimitsSection limitsSection;
    private Limits defaultLimits = Limits.defaults();

    private RulesLoader(Path file) {
        this.ctx = new LoadContext(file);
        this.in = ctx.in();
        this.limitsSection = new LimitsSection(ctx);
    }

    /** Reads and validates {@code file}. */
    public static PublishingRules load(Path file) throws RulesException {
        String text;
        try {
            byte[] bytes = BoundedFile.read(file, BoundedFile.MAX_RULES_FILE, "a rules file");
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new RulesException(new Problem(SourcePosition.unknown(file.toString()), "", "is not UTF-8 text"));
        } catch (BoundedFile.TooLargeException e) {
            throw new RulesException(new Problem(SourcePosition.unknown(file.toString()), "", "cannot read the rules file: "
                    + e.getMessage()));
        } catch (IOException e) {
            throw new RulesException(new Problem(SourcePosition.unknown(file.toString()), "",
                    "cannot read the rules file (" + describe(e) + ")"));
        }
        return parse(text, file);
    }

    /** Validates {@code text} as if read from {@code file}; relative paths resolve against the file's folder. */
    public static PublishingRules parse(String text, Path file) throws RulesException {
        return new RulesLoader(file).bind(text);
    }

    private PublishingRules bind(String text) throws RulesException {
        YamlNode root = ctx.readTree(text);
        if (NodeReader.isNull(root)) {
            throw new RulesException(new Problem(root.position(), "", "the file is empty (expected at least a rules: list)"));
        }
        MapNode top = in.map(root, "").orElse(null);
        if (top == null) {
            throw ctx.failure();
        }
        in.onlyKeys(top, "", TOP_KEYS);

        ServiceSection serviceSection = new ServiceSection(ctx);
        Path stateDir = serviceSection.stateDir(top);
        ServiceSettings service = serviceSection.read(top);
        Optional<Entry> dnsEntry = in.entry(top, "dns");
        DnsSettings dns = dnsEntry.map(e -> new DnsSection(ctx).read(e.value())).orElse(DnsSettings.defaults(top.position()));
        defaultLimits = in.entry(top, "limits").flatMap(e -> in.map(e.value(), "limits"))
                .map(m -> limitsSection.read(m, "limits", Limits.defaults())).orElse(Limits.defaults());
        CertificatesSection certificatesSection = new CertificatesSection(ctx);
        Map<String, CertificateSource> certificates = in.entry(top, "certificates")
                .map(e -> certificatesSection.read(e.value())).orElse(Map.of());
        Map<String, ClientSet> clientSets = in.entry(top, "clientSets")
                .map(e -> new ClientSetsSection(ctx).read(e.value())).orElse(Map.of());

        List<Rule> rules = new ArrayList<>();
        Entry rulesEntry = in.required(top, "", "rules").orElse(null);
        if (rulesEntry != null) {
            if (rulesEntry.value() instanceof ListNode list) {
                for (int i = 0; i < list.items().size(); i++) {
                    rule(list.items().get(i), index("rules", i), certificates, clientSets).ifPresent(rules::add);
                }
                if (list.items().isEmpty()) {
                    in.problem(list.position(), "rules", "is empty (expected at least one rule)");
                }
            } else {
                in.problem(rulesEntry.value().position(), "rules", "expected a list of rules, found "
                        + rulesEntry.value().kind());
            }
        }
        CrossRuleChecks checks = new CrossRuleChecks(ctx);
        checks.uniqueNames(rules);
        checks.listenConflicts(rules);
        certificatesSection.checkFiles(certificates, rules);

        if (ctx.hasProblems() || dns == null || service == null) {
            throw ctx.failure();
        }
        checks.warnUnusedDns(dnsEntry, rules);
        return new PublishingRules(ctx.file(), stateDir, service, certificates, clientSets, dns, rules, ctx.sortedWarnings());
    }

    // ---- rules -----------------------------------------------------------------------------------------------------

    private Optional<Rule> rule(YamlNode node, String path, Map<String, CertificateSource> certificates,
            Map<String, ClientSet> clientSets) {
        MapNode map = in.map(node, path).orElse(null);
        if (map == null) {
            return Optional.empty();
        }
        int before = ctx.problemCount();
        in.onlyKeys(map, path, RULE_KEYS);

        String name = in.required(map, path, "name").flatMap(e -> in.text(e.value(), child(path, "name")))
                .filter(s -> ctx.checkName(s.text(), s.position(), child(path, "name"), "rule"))
                .map(YamlNode.Scalar::text).orElse(null);
        boolean enabled = in.entry(map, "enabled").flatMap(e -> in.bool(e.value(), child(path, "enabled"))).orElse(true);

        List<HostPort> listen = new ArrayList<>();
        in.required(map, path, "listen").ifPresent(e -> {
            for (Item item : in.textList(e.value(), child(path, "listen"))) {
                ctx.listenAddress(item).ifPresent(hp -> {
                    if (listen.contains(hp)) {
                        in.problem(item.position(), item.path(), hp + " is listed twice in this rule");
                    } else {
                        listen.add(hp);
                    }
                });
            }
        });

        Protocol protocol = in.required(map, path, "protocol")
                .flatMap(e -> in.text(e.value(), child(path, "protocol")))
                .flatMap(s -> ctx.word(s, child(path, "protocol"), Protocol.fromConfigName(s.text()), "pop3, imap, smtp or tcp"))
                .orElse(null);

        TlsMode tlsMode = in.entry(map, "tls")
                .flatMap(e -> in.text(e.value(), child(path, "tls")))
                .flatMap(s -> ctx.word(s, child(path, "tls"), TlsMode.fromConfigName(s.text()), "implicit, starttls or none"))
                .orElse(in.entry(map, "tls").isPresent() ? null : TlsMode.IMPLICIT);
        if (tlsMode == TlsMode.STARTTLS && protocol == Protocol.TCP) {
            Entry tlsEntry = in.entry(map, "tls").orElseThrow();
            in.problem(tlsEntry.value().position(), child(path, "tls"),
                    "\"starttls\" needs a mail protocol to ask for it (expected implicit or none for tcp)");
        }
        LoginSettings login = login(map, path, protocol);
        SmtpSettings smtp = smtp(map, path, protocol);

        List<String> certNames = new ArrayList<>();
        Optional<Entry> certEntry = in.entry(map, "certificate");
        if (tlsMode == TlsMode.NONE) {
            certEntry.ifPresent(e -> ctx.warn(e.keyPosition(), child(path, "certificate"),
                    "is ignored, since tls is none"));
            for (String key : TLS_KEYS) {
                in.entry(map, key).ifPresent(e -> ctx.warn(e.keyPosition(), child(path, key),
                        "is ignored, since tls is none"));
            }
        } else if (tlsMode != null) {
            in.required(map, path, "certificate").ifPresent(e -> {
                for (Item item : in.textList(e.value(), child(path, "certificate"))) {
                    if (!certificates.containsKey(item.text())) {
                        in.problem(item.position(), item.path(), "unknown certificate \"" + item.text() + "\" (expected "
                                + LoadContext.known(certificates.keySet(), "certificates") + ")");
                    } else if (certNames.contains(item.text())) {
                        in.problem(item.position(), item.path(), "certificate \"" + item.text() + "\" is listed twice");
                    } else {
                        certNames.add(item.text());
                    }
                }
            });
        }

        boolean transparent = in.entry(map, "transparent").flatMap(e -> in.bool(e.value(), child(path, "transparent")))
                .orElse(false);
        Backend backend = in.required(map, path, "backend").map(e -> backend(e.value(), child(path, "backend")))
                .map(b -> b.withTransparent(transparent)).orElse(null);

        Access access = in.entry(map, "access").map(e -> access(e.value(), child(path, "access"), clientSets))
                .orElse(Access.any());
        Optional<MapNode> limitsMap = in.entry(map, "limits").flatMap(e -> in.map(e.value(), child(path, "limits")));
        Limits limits = limitsMap.map(m -> limitsSection.read(m, child(path, "limits"), defaultLimits)).orElse(defaultLimits);
        if (protocol == Protocol.TCP) {
            limitsMap.ifPresent(m -> limitsSection.warnMailOnlyKeys(m, child(path, "limits")));
            in.entry(map, "backend").map(Entry::value).filter(MapNode.class::isInstance).map(MapNode.class::cast)
                    .flatMap(m -> in.entry(m, "greetingTimeout"))
                    .ifPresent(e -> ctx.warn(e.keyPosition(), child(child(path, "backend"),
                            "greetingTimeout"), "is ignored: a tcp server need not greet"));
        }
        Optional<ClientList> acceptProxy = in.entry(map, "acceptProxyProtocol")
                .map(e -> acceptProxyProtocol(e.value(), child(path, "acceptProxyProtocol"), clientSets));

        if (ctx.problemCount() > before || name == null || protocol == null || tlsMode == null || access == null
                || login == null || smtp == null || listen.isEmpty() || backend == null || limits == null
                || (acceptProxy.isPresent() && acceptProxy.get().isEmpty())) {
            return Optional.empty();
        }
        TlsSettings tls = tlsMode == TlsMode.NONE ? TlsSettings.none() : tlsSettings(map, path, tlsMode, certNames);
        if (tls == null) {
            return Optional.empty();
        }
        return Optional.of(new Rule(name, enabled, listen, protocol, tls, login, smtp, backend, access, limits,
                acceptProxy, map.position()));
    }

    /** {@code backend:} as a list of servers (the short form) or as a map with the pool's settings. */
    private Backend backend(YamlNode node, String path) {
        if (!(node instanceof MapNode map)) {
            List<HostPort> servers = servers(node, path);
            return servers.isEmpty() ? null : Backend.of(servers);
        }
        int before = ctx.problemCount();
        in.onlyKeys(map, path, BACKEND_KEYS);
        List<HostPort> servers = in.required(map, path, "servers").map(e -> servers(e.value(), child(path, "servers")))
                .orElse(List.of());
        Backend.Balance balance = in.entry(map, "balance").flatMap(e -> in.text(e.value(), child(path, "balance")))
                .flatMap(s -> ctx.word(s, child(path, "balance"), Backend.Balance.fromConfigName(s.text()),
                        "round-robin, least-connections or first"))
                .orElse(Backend.Balance.FIRST);
        Duration connectTimeout = in.entry(map, "connectTimeout")
                .flatMap(e -> in.duration(e.value(), child(path, "connectTimeout"), Duration.ofMillis(100),
                        Duration.ofMinutes(2)))
                .orElse(Backend.DEFAULT_CONNECT_TIMEOUT);
        Optional<Backend.HealthCheck> healthCheck = in.entry(map, "healthCheck")
                .flatMap(e -> NodeReader.isNull(e.value()) ? Optional.of(Backend.HealthCheck.DEFAULT)
                        : in.map(e.value(), child(path, "healthCheck")).map(m -> healthCheck(m, child(path, "healthCheck"))));
        Backend.ProxyProtocol proxy = in.entry(map, "sendProxyProtocol")
                .flatMap(e -> in.text(e.value(), child(path, "sendProxyProtocol")))
                .flatMap(s -> ctx.word(s, child(path, "sendProxyProtocol"), Backend.ProxyProtocol.fromConfigName(s.text()),
                        "off, v1 or v2"))
                .orElse(Backend.ProxyProtocol.OFF);
        Duration greetingTimeout = in.entry(map, "greetingTimeout")
                .flatMap(e -> in.duration(e.value(), child(path, "greetingTimeout"), Duration.ofSeconds(1),
                        Duration.ofMinutes(5)))
                .orElse(Backend.DEFAULT_GREETING_TIMEOUT);
        if (ctx.problemCount() > before || servers.isEmpty()) {
            return null;
        }
        return new Backend(servers, balance, connectTimeout, healthCheck, proxy, false, greetingTimeout);
    }

    private List<HostPort> servers(YamlNode node, String path) {
        List<HostPort> servers = new ArrayList<>();
        for (Item item : in.textList(node, path)) {
            try {
                HostPort hp = HostPort.parse(item.text(), false);
                if (servers.contains(hp)) {
                    in.problem(item.position(), item.path(), hp + " is listed twice");
                } else {
                    servers.add(hp);
                }
            } catch (IllegalArgumentException ex) {
                in.problem(item.position(), item.path(), ex.getMessage());
            }
        }
        return servers;
    }

    private Backend.HealthCheck healthCheck(MapNode map, String path) {
        in.onlyKeys(map, path, HEALTH_CHECK_KEYS);
        Backend.HealthCheck d = Backend.HealthCheck.DEFAULT;
        Duration interval = in.entry(map, "interval").flatMap(e -> in.duration(e.value(), child(path, "interval"),
                Duration.ofSeconds(1), Duration.ofHours(1))).orElse(d.interval());
        Duration timeout = in.entry(map, "timeout").flatMap(e -> in.duration(e.value(), child(path, "timeout"),
                Duration.ofMillis(100), Duration.ofMinutes(5))).orElse(d.timeout());
        int rise = in.entry(map, "rise").flatMap(e -> in.integer(e.value(), child(path, "rise"), 1, 100)).orElse(d.rise());
        int fall = in.entry(map, "fall").flatMap(e -> in.integer(e.value(), child(path, "fall"), 1, 100)).orElse(d.fall());
        if (timeout.compareTo(interval) > 0) {
            in.problem(map.position(), path, "timeout " + timeout.toMillis() + " ms is longer than interval "
                    + interval.toMillis() + " ms (expected a timeout shorter than the interval)");
        }
        return new Backend.HealthCheck(interval, timeout, rise, fall);
    }

    /** The load balancers trusted to name the client in a PROXY protocol header: addresses and client sets, no domains. */
    private ClientList acceptProxyProtocol(YamlNode node, String path, Map<String, ClientSet> clientSets) {
        MapNode map = in.map(node, path).orElse(null);
        if (map == null) {
            return ClientList.empty();
        }
        in.onlyKeys(map, path, ACCEPT_PROXY_KEYS);
        ClientList from = in.required(map, path, "from").map(e -> clientList(e.value(), child(path, "from"), clientSets))
                .orElse(ClientList.empty());
        if (from.isEmpty() && in.entry(map, "from").isPresent()) {
            in.problem(map.position(), child(path, "from"), "is empty (expected the load balancers' addresses)");
        }
        if (!from.domains().isEmpty()) {
            in.problem(map.position(), child(path, "from"), "names domains (" + String.join(", ", from.domains().domains())
                    + "), which would need reverse DNS of the load balancer (expected addresses only)");
        }
        return from;
    }

    /** The TLS keys of a rule that speaks TLS; null after a problem. */
    private TlsSettings tlsSettings(MapNode map, String path, TlsMode mode, List<String> certNames) {
        int before = ctx.problemCount();
        TlsPolicy policy = in.entry(map, "tlsPolicy").flatMap(e -> in.text(e.value(), child(path, "tlsPolicy")))
                .flatMap(t -> ctx.word(t, child(path, "tlsPolicy"), TlsPolicy.fromConfigName(t.text()),
                        "modern, intermediate or legacy"))
                .orElse(TlsPolicy.INTERMEDIATE);
        if (policy == TlsPolicy.LEGACY) {
            ctx.warn(in.entry(map, "tlsPolicy").orElseThrow().value().position(), child(path, "tlsPolicy"),
                    "legacy offers TLS 1.0 and 1.1 and CBC ciphers: use it only for clients that cannot do better");
        }
        List<String> protocols = new ArrayList<>();
        in.entry(map, "protocols").ifPresent(e -> {
            for (Item item : in.textList(e.value(), child(path, "protocols"))) {
                if (!TLS_VERSIONS.contains(item.text())) {
                    in.problem(item.position(), item.path(), '"' + item.text() + "\" (expected "
                            + String.join(", ", TLS_VERSIONS) + "; SSL versions are never offered)");
                } else {
                    protocols.add(item.text());
                }
            }
        });
        List<String> ciphers = new ArrayList<>();
        in.entry(map, "ciphers").ifPresent(e -> {
            for (Item item : in.textList(e.value(), child(path, "ciphers"))) {
                String weak = WEAK_CIPHER_PARTS.stream().filter(w -> item.text().toUpperCase(java.util.Locale.ROOT)
                        .contains(w.toUpperCase(java.util.Locale.ROOT))).findFirst().orElse(null);
                if (weak != null) {
                    in.problem(item.position(), item.path(), '"' + item.text() + "\" is under 128 bits or leaves data "
                            + "unprotected (" + weak + "; expected AES-GCM, ChaCha20-Poly1305 or AES-CBC with 128 or 256 bits)");
                } else if (!item.text().startsWith("TLS_")) {
                    in.problem(item.position(), item.path(), '"' + item.text() + "\" is not a standard cipher suite name "
                            + "(expected the IANA name, as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)");
                } else {
                    ciphers.add(item.text());
                }
            }
        });
        Optional<String> publicName = in.entry(map, "publicName").flatMap(e -> in.text(e.value(), child(path, "publicName")))
                .flatMap(t -> {
                    if (HostPort.isHostName(t.text())) {
                        return Optional.of(t.text().toLowerCase(java.util.Locale.ROOT));
                    }
                    in.problem(t.position(), child(path, "publicName"), '"' + t.text()
                            + "\" is not a host name (expected the name clients connect to, as mail.example.com)");
                    return Optional.empty();
                });
        Optional<TlsSettings.ClientCertificate> clientCertificate = in.entry(map, "clientCertificate")
                .flatMap(e -> in.map(e.value(), child(path, "clientCertificate")))
                .flatMap(m -> clientCertificate(m, child(path, "clientCertificate")));
        if (ctx.problemCount() > before) {
            return null;
        }
        return new TlsSettings(mode, certNames, policy, protocols, ciphers, publicName, clientCertificate);
    }

    private Optional<TlsSettings.ClientCertificate> clientCertificate(MapNode map, String path) {
        in.onlyKeys(map, path, CLIENT_CERT_KEYS);
        Optional<TlsSettings.ClientCertificate.Mode> mode = in.required(map, path, "mode")
                .flatMap(e -> in.text(e.value(), child(path, "mode")))
                .flatMap(t -> ctx.word(t, child(path, "mode"), ConfigWord.parse(TlsSettings.ClientCertificate.Mode.class,
                        t.text()), "require or optional"));
        Optional<Path> trust = in.required(map, path, "trust").flatMap(e -> in.text(e.value(), child(path, "trust")))
                .flatMap(t -> {
                    Path file = ctx.resolve(t.text());
                    String why = LoadContext.unreadable(file, BoundedFile.MAX_CERTIFICATE_FILE, "a CA certificate file");
                    if (why != null) {
                        in.problem(t.position(), child(path, "trust"), why);
                        return Optional.empty();
                    }
                    return Optional.of(file);
                });
        return mode.isPresent() && trust.isPresent()
                ? Optional.of(new TlsSettings.ClientCertificate(mode.get(), trust.get())) : Optional.empty();
    }

    /** The login policy; tcp rules have none to apply, so saying one there is a mistake worth reporting. */
    private LoginSettings login(MapNode map, String path, Protocol protocol) {
        Optional<Entry> policyEntry = in.entry(map, "login");
        Optional<Entry> challengeEntry = in.entry(map, "challengeResponseWithoutTls");
        if (protocol == Protocol.TCP) {
            for (Entry e : List.of(policyEntry, challengeEntry).stream().flatMap(Optional::stream).toList()) {
                in.problem(e.keyPosition(), child(path, e.key()),
                        "applies to pop3, imap and smtp only: a tcp rule relays bytes without reading logins");
            }
            return LoginSettings.secureOnly();
        }
        LoginPolicy policy = policyEntry
                .flatMap(e -> in.text(e.value(), child(path, "login")))
                .flatMap(s -> ctx.word(s, child(path, "login"), LoginPolicy.fromConfigName(s.text()),
                        "secure-only, audit or plaintext-allowed"))
                .orElse(policyEntry.isPresent() ? null : LoginPolicy.SECURE_ONLY);
        Boolean challenge = challengeEntry
                .map(e -> in.bool(e.value(), child(path, "challengeResponseWithoutTls")).orElse(null))
                .orElse(Boolean.TRUE);
        if (policy == null || challenge == null) {
            return null;
        }
        if (policy == LoginPolicy.PLAINTEXT_ALLOWED && challengeEntry.isPresent()) {
            ctx.warn(challengeEntry.get().keyPosition(), child(path, "challengeResponseWithoutTls"),
                    "is ignored, since login is plaintext-allowed");
        }
        return new LoginSettings(policy, challenge);
    }

    /** {@code smtp:}, which only an SMTP rule reads. */
    private SmtpSettings smtp(MapNode map, String path, Protocol protocol) {
        Optional<Entry> entry = in.entry(map, "smtp");
        if (entry.isEmpty()) {
            return SmtpSettings.defaults();
        }
        String smtpPath = child(path, "smtp");
        if (protocol != null && protocol != Protocol.SMTP) {
            in.problem(entry.get().keyPosition(), smtpPath, "applies to smtp rules only (this rule is "
                    + protocol.configName() + ")");
            return SmtpSettings.defaults();
        }
        MapNode smtp = in.map(entry.get().value(), smtpPath).orElse(null);
        if (smtp == null) {
            return null;
        }
        in.onlyKeys(smtp, smtpPath, SMTP_KEYS);
        Optional<Entry> bare = in.entry(smtp, "bareLineEndings");
        SmtpSettings.BareLineEndings bareLineEndings = bare
                .flatMap(e -> in.text(e.value(), child(smtpPath, "bareLineEndings")))
                .flatMap(s -> ctx.word(s, child(smtpPath, "bareLineEndings"),
                        SmtpSettings.BareLineEndings.fromConfigName(s.text()), "reject or normalize"))
                .orElse(bare.isPresent() ? null : SmtpSettings.BareLineEndings.REJECT);
        return bareLineEndings == null ? null : new SmtpSettings(bareLineEndings);
    }

    private Access access(YamlNode node, String path, Map<String, ClientSet> clientSets) {
        MapNode map = in.map(node, path).orElse(null);
        if (map == null) {
            return null;
        }
        in.onlyKeys(map, path, ACCESS_KEYS);
        Optional<Entry> allowEntry = in.entry(map, "allow");
        ClientList allow = allowEntry.map(e -> clientList(e.value(), child(path, "allow"), clientSets))
                .orElse(ClientList.empty());
        ClientList deny = in.entry(map, "deny").map(e -> clientList(e.value(), child(path, "deny"), clientSets))
                .orElse(ClientList.empty());
        if (allowEntry.isPresent() && allow.isEmpty()) {
            in.problem(allowEntry.get().value().position(), child(path, "allow"),
                    "is empty, which would admit nobody (leave allow out to admit any client)");
        }
        return new Access(allowEntry.isEmpty(), allow, deny);
    }

    private ClientList clientList(YamlNode node, String path, Map<String, ClientSet> clientSets) {
        List<String> entries = new ArrayList<>();
        List<AddressSet> sets = new ArrayList<>();
        List<DomainSet> domains = new ArrayList<>();
        List<AddressBlock> inline = new ArrayList<>();
        for (Item item : in.textList(node, path)) {
            ClientSet set = clientSets.get(item.text());
            if (set != null) {
                entries.add(item.text());
                sets.add(set.addresses());
                domains.add(set.domains());
            } else if (item.text().indexOf('.') > 0 && HostPort.isHostName(item.text())) {
                in.problem(item.position(), item.path(), "\"" + item.text() + "\" is not a client set; a domain goes in a"
                        + " client set, which this list then names (expected clientSets: {partners: {domains: ["
                        + item.text() + "]}} and partners here)");
            } else if (looksLikeAddress(item.text())) {
                ctx.addressBlock(item).ifPresent(b -> {
                    entries.add(item.text());
                    inline.add(b);
                });
            } else {
                in.problem(item.position(), item.path(), "unknown client set \"" + item.text() + "\" (expected "
                        + LoadContext.known(clientSets.keySet(), "client sets") + ", or an address or CIDR such as 10.0.0.0/8)");
            }
        }
        sets.add(AddressSet.of(inline));
        return new ClientList(entries, AddressSet.union(sets), DomainSet.union(domains));
    }

    private static boolean looksLikeAddress(String text) {
        if (text.isEmpty()) {
            return false;
        }
        char c = text.charAt(0);
        return Character.digit(c, 16) >= 0 && (text.indexOf('.') >= 0 || text.indexOf(':') >= 0 || text.indexOf('/') >= 0)
                || c == ':' || text.chars().allMatch(Character::isDigit);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private static String describe(IOException e) {
        return e instanceof java.nio.file.NoSuchFileException ? "no such file"
                : e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.toString();
    }
}
