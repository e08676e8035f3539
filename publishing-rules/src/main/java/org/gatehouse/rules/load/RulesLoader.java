package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.child;
import static org.gatehouse.rules.load.NodeReader.index;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
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
import org.gatehouse.rules.Secret;
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
import org.gatehouse.rules.match.IpLiteral;

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
    private static final Set<String> LIMIT_KEYS = Set.of("maxConnections", "maxConnectionsPerClient",
            "connectionRatePerClient", "handshakeTimeout", "idleTimeout", "maxPreLoginConnections", "preLoginIdleTimeout");
    /** Limits that only mail rules use: a client of a tcp rule never logs in, as far as the gateway can tell. */
    private static final Set<String> MAIL_LIMIT_KEYS = Set.of("maxPreLoginConnections", "preLoginIdleTimeout");
    private static final Set<String> ACCEPT_PROXY_KEYS = Set.of("from");
    private static final Pattern RATE = Pattern.compile("(\\d{1,9})\\s*/\\s*(s|sec|second|m|min|minute|h|hour)");
    private static final Set<String> ADMIN_KEYS = Set.of("listen", "enabled", "readOnlyListen");
    private static final Set<String> ACCESS_LOG_KEYS = Set.of("format");
    private static final Set<String> DNS_KEYS = Set.of("servers", "timeout", "cache", "onFailure");
    private static final Set<String> DNS_CACHE_KEYS = Set.of("maxEntries", "maxTtl", "negativeTtl");
    private static final Set<String> PEM_KEYS = Set.of("certificate", "privateKey", "passphrase");
    private static final Set<String> PKCS12_KEYS = Set.of("pkcs12", "password");
    private static final Set<String> CERT_KEYS = Set.of("certificate", "privateKey", "passphrase", "pkcs12", "password",
            "allowExpired", "ocspStapling", "selfSigned");
    private static final Set<String> SECRET_KEYS = Set.of("env", "file");
    private static final Set<String> CLIENT_SET_KEYS = Set.of("addresses", "domains");
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
    private Limits defaultLimits = Limits.defaults();

    private RulesLoader(Path file) {
        this.ctx = new LoadContext(file);
        this.in = ctx.in();
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

        Path stateDir = in.entry(top, "stateDir")
                .flatMap(e -> in.text(e.value(), "stateDir"))
                .map(s -> ctx.resolve(s.text()))
                .orElse(ctx.baseDir().resolve(DEFAULT_STATE_DIR));

        ServiceSettings service = service(top);
        Optional<Entry> dnsEntry = in.entry(top, "dns");
        DnsSettings dns = dnsEntry.map(e -> dns(e.value())).orElse(DnsSettings.defaults(top.position()));
        defaultLimits = in.entry(top, "limits").flatMap(e -> in.map(e.value(), "limits"))
                .map(m -> limits(m, "limits", Limits.defaults())).orElse(Limits.defaults());
        Map<String, CertificateSource> certificates = in.entry(top, "certificates")
                .map(e -> certificates(e.value())).orElse(Map.of());
        Map<String, ClientSet> clientSets = in.entry(top, "clientSets")
                .map(e -> clientSets(e.value())).orElse(Map.of());

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
        checkUniqueNames(rules);
        checkListenConflicts(rules);
        checkCertificateFiles(certificates, rules);

        if (ctx.hasProblems() || dns == null || service == null) {
            throw ctx.failure();
        }
        boolean usesDomains = rules.stream().anyMatch(r -> r.enabled() && r.access().usesDomains());
        if (dnsEntry.isPresent() && !usesDomains) {
            ctx.warn(dnsEntry.get().keyPosition(), "dns",
                    "is not used: no enabled rule's access lists name a domain, so no lookup is ever made");
        }
        return new PublishingRules(ctx.file(), stateDir, service, certificates, clientSets, dns, rules, ctx.sortedWarnings());
    }

    // ---- service ---------------------------------------------------------------------------------------------------

    private ServiceSettings service(MapNode top) {
        int before = ctx.problemCount();
        Optional<HostPort> admin = Optional.of(ServiceSettings.DEFAULT_ADMIN);
        Optional<HostPort> readOnly = Optional.empty();
        Optional<MapNode> adminMap = in.entry(top, "admin").flatMap(e -> in.map(e.value(), "admin"));
        if (adminMap.isPresent()) {
            MapNode a = adminMap.get();
            in.onlyKeys(a, "admin", ADMIN_KEYS);
            boolean enabled = in.entry(a, "enabled").flatMap(e -> in.bool(e.value(), "admin.enabled")).orElse(true);
            Optional<HostPort> listen = in.entry(a, "listen").flatMap(e -> in.text(e.value(), "admin.listen"))
                    .flatMap(s -> ctx.listenAddress(new Item(s.text(), s.position(), "admin.listen")));
            if (listen.isPresent()) {
                admin = listen;
                InetAddress address = listen.get().literalAddress().orElseThrow();
                if (!address.isLoopbackAddress()) {
                    ctx.warn(in.entry(a, "listen").orElseThrow().value().position(), "admin.listen",
                            "listens on " + listen.get() + ", not on loopback: anyone who can reach it can read /metrics"
                                    + " (POST /-/reload is refused to clients not on loopback all the same)");
                }
            }
            Optional<Entry> readOnlyEntry = in.entry(a, "readOnlyListen");
            readOnly = readOnlyEntry.flatMap(e -> in.text(e.value(), "admin.readOnlyListen"))
                    .flatMap(s -> ctx.listenAddress(new Item(s.text(), s.position(), "admin.readOnlyListen")));
            if (readOnly.isPresent() && readOnly.equals(admin) && readOnly.get().port() != 0) { // port 0: two free ports
                in.problem(readOnlyEntry.orElseThrow().value().position(), "admin.readOnlyListen", readOnly.get()
                        + " is where admin.listen serves every endpoint (expected another address or port)");
            }
            if (!enabled) {
                admin = Optional.empty();
                readOnlyEntry.ifPresent(e -> ctx.warn(e.keyPosition(), "admin.readOnlyListen",
                        "is not used: admin.enabled is false, which turns off both admin listeners"));
                readOnly = Optional.empty();
            }
        }
        Duration grace = in.entry(top, "shutdownGracePeriod")
                .flatMap(e -> in.duration(e.value(), "shutdownGracePeriod", Duration.ZERO, Duration.ofHours(1)))
                .orElse(ServiceSettings.DEFAULT_SHUTDOWN_GRACE_PERIOD);
        ServiceSettings.AccessLogFormat format = ServiceSettings.AccessLogFormat.LOGFMT;
        Optional<MapNode> logMap = in.entry(top, "accessLog").flatMap(e -> in.map(e.value(), "accessLog"));
        if (logMap.isPresent()) {
            in.onlyKeys(logMap.get(), "accessLog", ACCESS_LOG_KEYS);
            format = in.entry(logMap.get(), "format").flatMap(e -> in.text(e.value(), "accessLog.format"))
                    .flatMap(s -> ctx.word(s, "accessLog.format", ServiceSettings.AccessLogFormat.fromConfigName(s.text()),
                            "logfmt or json"))
                    .orElse(format);
        }
        return ctx.problemCount() > before ? null : new ServiceSettings(admin, grace, format, readOnly);
    }

    // ---- dns -------------------------------------------------------------------------------------------------------

    private DnsSettings dns(YamlNode node) {
        MapNode map = in.map(node, "dns").orElse(null);
        if (map == null) {
            return null;
        }
        int before = ctx.problemCount();
        in.onlyKeys(map, "dns", DNS_KEYS);
        List<HostPort> servers = new ArrayList<>();
        in.entry(map, "servers").ifPresent(e -> {
            for (Item item : in.textList(e.value(), "dns.servers")) {
                dnsServer(item).ifPresent(servers::add);
            }
        });
        Duration timeout = in.entry(map, "timeout")
                .map(e -> in.duration(e.value(), "dns.timeout", Duration.ofMillis(100), Duration.ofSeconds(60)).orElse(null))
                .orElse(DnsSettings.DEFAULT_TIMEOUT);
        int maxEntries = DnsSettings.DEFAULT_MAX_ENTRIES;
        Duration maxTtl = DnsSettings.DEFAULT_MAX_TTL;
        Duration negativeTtl = DnsSettings.DEFAULT_NEGATIVE_TTL;
        Optional<MapNode> cache = in.entry(map, "cache").flatMap(e -> in.map(e.value(), "dns.cache"));
        if (cache.isPresent()) {
            MapNode c = cache.get();
            in.onlyKeys(c, "dns.cache", DNS_CACHE_KEYS);
            maxEntries = in.entry(c, "maxEntries")
                    .flatMap(e -> in.integer(e.value(), "dns.cache.maxEntries", 1, 10_000_000)).orElse(maxEntries);
            maxTtl = in.entry(c, "maxTtl")
                    .flatMap(e -> in.duration(e.value(), "dns.cache.maxTtl", Duration.ZERO, Duration.ofDays(7))).orElse(maxTtl);
            negativeTtl = in.entry(c, "negativeTtl")
                    .flatMap(e -> in.duration(e.value(), "dns.cache.negativeTtl", Duration.ZERO, Duration.ofDays(1)))
                    .orElse(negativeTtl);
        }
        DnsSettings.OnFailure onFailure = in.entry(map, "onFailure")
                .flatMap(e -> in.text(e.value(), "dns.onFailure"))
                .flatMap(s -> ctx.word(s, "dns.onFailure", DnsSettings.OnFailure.fromConfigName(s.text()),
                        "deny or ignore-domain-rules"))
                .orElse(DnsSettings.OnFailure.DENY);
        if (ctx.problemCount() > before || timeout == null) {
            return null;
        }
        return new DnsSettings(servers, timeout, maxEntries, maxTtl, negativeTtl, onFailure, map.position());
    }

    /** A resolver's address: an IP, with a port or not (53). A name would need DNS to find DNS. */
    private Optional<HostPort> dnsServer(Item item) {
        String text = item.text();
        Optional<byte[]> bare = IpLiteral.parse(text);
        if (bare.isPresent()) {
            return Optional.of(new HostPort(text, 53));
        }
        try {
            HostPort hp = HostPort.parse(text, false);
            if (hp.literalAddress().isPresent()) {
                return Optional.of(hp);
            }
            in.problem(item.position(), item.path(), '"' + text
                    + "\" names a host (expected an IP address, as 192.0.2.53, 127.0.0.1:5353 or [2001:db8::53]:53)");
        } catch (IllegalArgumentException ex) {
            in.problem(item.position(), item.path(), ex.getMessage());
        }
        return Optional.empty();
    }

    // ---- certificates ----------------------------------------------------------------------------------------------

    private Map<String, CertificateSource> certificates(YamlNode node) {
        Map<String, CertificateSource> out = new LinkedHashMap<>();
        MapNode map = in.map(node, "certificates").orElse(null);
        if (map == null) {
            return out;
        }
        for (Entry e : map.entries().values()) {
            String path = child("certificates", e.key());
            if (!ctx.checkName(e.key(), e.keyPosition(), path, "certificate")) {
                continue;
            }
            MapNode def = in.map(e.value(), path).orElse(null);
            if (def == null) {
                continue;
            }
            in.onlyKeys(def, path, CERT_KEYS);
            boolean selfSigned = def.entries().containsKey("selfSigned");
            boolean pem = def.entries().keySet().stream().anyMatch(PEM_KEYS::contains);
            boolean pkcs12 = def.entries().keySet().stream().anyMatch(PKCS12_KEYS::contains);
            if ((selfSigned ? 1 : 0) + (pem ? 1 : 0) + (pkcs12 ? 1 : 0) > 1) {
                in.problem(def.position(), path, "mixes " + (selfSigned ? "selfSigned, " : "") + (pem ? "PEM files (certificate, "
                        + "privateKey), " : "") + (pkcs12 ? "a PKCS#12 file (pkcs12), " : "")
                        + "which are different ways to give a certificate (expected one of them)");
                continue;
            }
            boolean allowExpired = in.entry(def, "allowExpired").flatMap(a -> in.bool(a.value(), child(path, "allowExpired")))
                    .orElse(false);
            boolean ocsp = in.entry(def, "ocspStapling").flatMap(a -> in.bool(a.value(), child(path, "ocspStapling")))
                    .orElse(false);
            if (pkcs12) {
                Optional<Path> file = in.required(def, path, "pkcs12")
                        .flatMap(c -> in.text(c.value(), child(path, "pkcs12"))).map(t -> ctx.resolve(t.text()));
                Optional<Secret> password = in.entry(def, "password").map(p -> secret(p.value(), child(path, "password")));
                if (file.isPresent() && password.map(p -> p != null).orElse(true)) {
                    out.put(e.key(), new CertificateSource.Pkcs12(e.key(), file.get(), password, allowExpired, ocsp,
                            e.keyPosition()));
                }
                continue;
            }
            if (selfSigned) {
                Entry names = def.entries().get("selfSigned");
                List<String> list = new ArrayList<>();
                for (Item item : in.textList(names.value(), child(path, "selfSigned"))) {
                    if (IpLiteral.parse(item.text()).isEmpty() && !isDnsName(item.text())) {
                        in.problem(item.position(), item.path(), '"' + item.text()
                                + "\" is neither a DNS name nor an IP address (expected: mail.example.com or 192.0.2.7)");
                    } else {
                        list.add(item.text());
                    }
                }
                if (list.isEmpty() && !NodeReader.isNull(names.value())) {
                    in.problem(names.value().position(), child(path, "selfSigned"), "names no host (expected at least one name)");
                } else if (NodeReader.isNull(names.value())) {
                    in.problem(names.value().position(), child(path, "selfSigned"), "is required (a list of names)");
                } else {
                    out.put(e.key(), new CertificateSource.SelfSigned(e.key(), list, e.keyPosition()));
                }
                continue;
            }
            Optional<Path> cert = in.required(def, path, "certificate")
                    .flatMap(c -> in.text(c.value(), child(path, "certificate"))).map(s -> ctx.resolve(s.text()));
            Optional<Path> key = in.required(def, path, "privateKey")
                    .flatMap(c -> in.text(c.value(), child(path, "privateKey"))).map(s -> ctx.resolve(s.text()));
            Optional<Secret> passphrase = in.entry(def, "passphrase").map(p -> secret(p.value(), child(path, "passphrase")));
            if (cert.isPresent() && key.isPresent() && passphrase.map(p -> p != null).orElse(true)) {
                out.put(e.key(), new CertificateSource.PemFiles(e.key(), cert.get(), key.get(), passphrase, allowExpired,
                        ocsp, e.keyPosition()));
            }
        }
        return out;
    }

    /**
     * Where a passphrase or password is read from: {@code { env: VARIABLE }} or {@code { file: PATH }}. Written inline,
     * it would sit in a file that is copied, versioned and printed: refused. Null after a problem.
     */
    private Secret secret(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar) {
            in.problem(node.position(), path, "is written in the rules file (expected where to read it: { env: VARIABLE } "
                    + "or { file: /path/to/file }, so that the secret stays out of this file)");
            return null;
        }
        MapNode map = in.map(node, path).orElse(null);
        if (map == null) {
            return null;
        }
        in.onlyKeys(map, path, SECRET_KEYS);
        Optional<Entry> env = in.entry(map, "env");
        Optional<Entry> file = in.entry(map, "file");
        if (env.isPresent() == file.isPresent()) {
            in.problem(map.position(), path, "needs exactly one of env or file");
            return null;
        }
        if (env.isPresent()) {
            return in.text(env.get().value(), child(path, "env")).<Secret>map(t -> new Secret.Environment(t.text())).orElse(null);
        }
        return in.text(file.get().value(), child(path, "file"))
                .<Secret>map(t -> new Secret.File(ctx.resolve(t.text()))).orElse(null);
    }

    /**
     * Certificate files must be readable when an enabled rule uses them. A certificate that only disabled rules use may
     * still be missing, as when the request is with the CA and the rule waits for it: that is a warning.
     */
    private void checkCertificateFiles(Map<String, CertificateSource> certificates, List<Rule> rules) {
        Map<String, String> usedBy = new HashMap<>();
        for (Rule r : rules) {
            if (r.enabled()) {
                for (String c : r.tls().certificates()) {
                    usedBy.putIfAbsent(c, r.name());
                }
            }
        }
        for (CertificateSource source : certificates.values()) {
            String path = child("certificates", source.name());
            Map<String, Path> files = new java.util.TreeMap<>();
            if (source instanceof CertificateSource.PemFiles pem) {
                files.put("certificate", pem.certificate());
                files.put("privateKey", pem.privateKey());
                pem.passphrase().filter(Secret.File.class::isInstance)
                        .ifPresent(p -> files.put("passphrase.file", ((Secret.File) p).path()));
            } else if (source instanceof CertificateSource.Pkcs12 p12) {
                files.put("pkcs12", p12.file());
                p12.password().filter(Secret.File.class::isInstance)
                        .ifPresent(p -> files.put("password.file", ((Secret.File) p).path()));
            }
            for (Map.Entry<String, Path> file : files.entrySet()) {
                boolean secret = file.getKey().endsWith(".file");
                String why = LoadContext.unreadable(file.getValue(), secret ? BoundedFile.MAX_SECRET_FILE
                        : BoundedFile.MAX_CERTIFICATE_FILE, secret ? "a passphrase file" : "a certificate or key file");
                if (why == null) {
                    continue;
                }
                if (usedBy.containsKey(source.name())) {
                    in.problem(source.position(), child(path, file.getKey()), why + " (used by rule "
                            + usedBy.get(source.name()) + ")");
                } else {
                    ctx.warn(source.position(), child(path, file.getKey()), why
                            + "; not checked, since no enabled rule uses this certificate");
                }
            }
        }
    }
    // ---- client sets -----------------------------------------------------------------------------------------------

    private Map<String, ClientSet> clientSets(YamlNode node) {
        Map<String, ClientSet> out = new LinkedHashMap<>();
        MapNode map = in.map(node, "clientSets").orElse(null);
        if (map == null) {
            return out;
        }
        for (Entry e : map.entries().values()) {
            String path = child("clientSets", e.key());
            if (!ctx.checkName(e.key(), e.keyPosition(), path, "client set")) {
                continue;
            }
            MapNode def = in.map(e.value(), path).orElse(null);
            if (def == null) {
                continue;
            }
            in.onlyKeys(def, path, CLIENT_SET_KEYS);
            int before = ctx.problemCount();
            List<AddressBlock> blocks = new ArrayList<>();
            in.entry(def, "addresses").ifPresent(a -> {
                for (Item item : in.textList(a.value(), child(path, "addresses"))) {
                    ctx.addressBlock(item).ifPresent(blocks::add);
                }
            });
            List<String> domains = new ArrayList<>();
            in.entry(def, "domains").ifPresent(a -> {
                for (Item item : in.textList(a.value(), child(path, "domains"))) {
                    domain(item).ifPresent(domains::add);
                }
            });
            if (ctx.problemCount() == before && blocks.isEmpty() && domains.isEmpty()) {
                in.problem(def.position(), path, "has neither addresses nor domains (expected at least one of them)");
            }
            out.put(e.key(), ClientSet.of(e.key(), blocks, DomainSet.of(domains), e.keyPosition()));
        }
        return out;
    }

    private Optional<String> domain(Item item) {
        String domain;
        try {
            domain = DomainSet.canonical(item.text());
        } catch (IllegalArgumentException ex) {
            in.problem(item.position(), item.path(), ex.getMessage());
            return Optional.empty();
        }
        if (domain.indexOf('.') < 0) {
            ctx.warn(item.position(), item.path(), "\"" + domain
                    + "\" is a top-level domain: every client whose name ends in ." + domain + " matches");
        }
        return Optional.of(domain);
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
        Limits limits = limitsMap.map(m -> limits(m, child(path, "limits"), defaultLimits)).orElse(defaultLimits);
        if (protocol == Protocol.TCP) {
            limitsMap.ifPresent(m -> m.entries().values().stream().filter(e -> MAIL_LIMIT_KEYS.contains(e.key()))
                    .forEach(e -> ctx.warn(e.keyPosition(), child(child(path, "limits"), e.key()),
                            "is ignored: it applies to pop3, imap and smtp, whose clients log in")));
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

    /** Limits as written at {@code path}, each key overriding {@code base} (the file's defaults, or the built-in ones). */
    private Limits limits(MapNode map, String path, Limits base) {
        in.onlyKeys(map, path, LIMIT_KEYS);
        int before = ctx.problemCount();
        int max = in.entry(map, "maxConnections").flatMap(e -> in.integer(e.value(), child(path, "maxConnections"), 0,
                10_000_000)).orElse(base.maxConnections());
        int perClient = in.entry(map, "maxConnectionsPerClient").flatMap(e -> in.integer(e.value(),
                child(path, "maxConnectionsPerClient"), 0, 10_000_000)).orElse(base.maxConnectionsPerClient());
        Optional<Limits.Rate> rate = in.entry(map, "connectionRatePerClient")
                .map(e -> rate(e.value(), child(path, "connectionRatePerClient")))
                .orElse(base.connectionRatePerClient());
        Duration handshake = in.entry(map, "handshakeTimeout").flatMap(e -> in.duration(e.value(),
                child(path, "handshakeTimeout"), Duration.ofMillis(100), Duration.ofMinutes(5))).orElse(base.handshakeTimeout());
        Optional<Duration> idle = in.entry(map, "idleTimeout").flatMap(e -> in.duration(e.value(), child(path, "idleTimeout"),
                Duration.ZERO, Duration.ofDays(1))).or(base::idleTimeout);
        int preLogin = in.entry(map, "maxPreLoginConnections").flatMap(e -> in.integer(e.value(),
                child(path, "maxPreLoginConnections"), 0, 10_000_000)).orElse(base.maxPreLoginConnections());
        Duration preLoginIdle = in.entry(map, "preLoginIdleTimeout").flatMap(e -> in.duration(e.value(),
                child(path, "preLoginIdleTimeout"), Duration.ZERO, Duration.ofDays(1))).orElse(base.preLoginIdleTimeout());
        return ctx.problemCount() > before ? null : new Limits(max, perClient, rate, handshake, idle, preLogin, preLoginIdle);
    }

    /** {@code 60/min}, {@code 10/s}, {@code 1000/h}; {@code 0} or {@code off} for none. */
    private Optional<Limits.Rate> rate(YamlNode node, String path) {
        Optional<YamlNode.Scalar> text = in.text(node, path);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        String t = text.get().text().trim();
        if (t.equals("0") || t.equals("off")) {
            return Optional.empty();
        }
        java.util.regex.Matcher m = RATE.matcher(t);
        if (!m.matches() || Integer.parseInt(m.group(1)) == 0) {
            in.problem(text.get().position(), path, '"' + t + "\" is not a rate (expected a count per unit: 60/min, "
                    + "10/s, 1000/h, or off)");
            return Optional.empty();
        }
        Duration period = switch (m.group(2).charAt(0)) {
            case 's' -> Duration.ofSeconds(1);
            case 'm' -> Duration.ofMinutes(1);
            default -> Duration.ofHours(1);
        };
        return Optional.of(new Limits.Rate(Integer.parseInt(m.group(1)), period));
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

    // ---- cross-rule checks -----------------------------------------------------------------------------------------

    private void checkUniqueNames(List<Rule> rules) {
        Map<String, Rule> seen = new HashMap<>();
        for (Rule r : rules) {
            Rule first = seen.putIfAbsent(r.name(), r);
            if (first != null) {
                in.problem(r.position(), "rules." + r.name(), "duplicate rule name \"" + r.name() + "\" (first used at line "
                        + first.position().line() + ")");
            }
        }
    }

    /**
     * Two enabled rules may not listen on the same IP:port, nor on a wildcard address (0.0.0.0, ::) and a specific one
     * with the same port: the operating system would refuse the second bind, and which rule serves a client would be
     * ambiguous. Port 0 (a free port chosen at bind time) never conflicts.
     */
    private void checkListenConflicts(List<Rule> rules) {
        record Bound(Rule rule, HostPort address) {
        }
        List<Bound> bound = new ArrayList<>();
        for (Rule r : rules) {
            if (!r.enabled()) {
                continue;
            }
            for (HostPort hp : r.listen()) {
                if (hp.port() == 0) {
                    continue;
                }
                for (Bound b : bound) {
                    if (b.rule() != r && b.address().port() == hp.port() && overlaps(b.address(), hp)) {
                        String what = b.address().equals(hp) ? "also listens on " + hp
                                : "listens on " + b.address() + ", which overlaps " + hp;
                        in.problem(r.position(), "rules." + r.name() + ".listen", "rule " + b.rule().name() + " (line "
                                + b.rule().position().line() + ") " + what
                                + "; two enabled rules cannot share an address and port");
                    }
                }
                bound.add(new Bound(r, hp));
            }
        }
    }

    private static boolean overlaps(HostPort a, HostPort b) {
        InetAddress x = a.literalAddress().orElseThrow();
        InetAddress y = b.literalAddress().orElseThrow();
        if (x.equals(y)) {
            return true;
        }
        // An IPv6 wildcard socket also takes IPv4 connections (dual stack), so it overlaps everything.
        boolean xv6Any = x.isAnyLocalAddress() && x.getAddress().length == 16;
        boolean yv6Any = y.isAnyLocalAddress() && y.getAddress().length == 16;
        if (xv6Any || yv6Any) {
            return true;
        }
        boolean sameFamily = x.getAddress().length == y.getAddress().length;
        return sameFamily && (x.isAnyLocalAddress() || y.isAnyLocalAddress());
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private static boolean isDnsName(String text) {
        return HostPort.isHostName(text.startsWith("*.") ? text.substring(2) : text);
    }

    private static String describe(IOException e) {
        return e instanceof java.nio.file.NoSuchFileException ? "no such file"
                : e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.toString();
    }
}
