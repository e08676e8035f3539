package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.child;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.ClientSet;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.LoginPolicy;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.SmtpSettings;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.rules.TlsSettings;
import org.gatehouse.rules.load.NodeReader.Item;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.MapNode;

/** Reads one rule: name, listen, protocol, login and smtp here; TLS, backend, access and limits through their sections. */
final class RuleSection {

    private static final Set<String> RULE_KEYS = Set.of("name", "enabled", "listen", "protocol", "tls", "certificate",
            "login", "challengeResponseWithoutTls", "secureChannel", "smtp", "backend", "access", "limits",
            "acceptProxyProtocol",
            "transparent",
            "tlsPolicy", "protocols", "ciphers", "publicName", "clientCertificate", "protection");
    private static final Set<String> SMTP_KEYS = Set.of("bareLineEndings");

    private final LoadContext ctx;
    private final NodeReader in;
    private final TlsSection tlsSection;
    private final BackendSection backendSection;
    private final AccessSection accessSection;
    private final LimitsSection limitsSection;
    private final Limits defaultLimits;
    private final List<RuleOutline> outlines = new ArrayList<>();

    /** For the rules of one file: the certificates and client sets they may name, and the file's default limits. */
    RuleSection(LoadContext ctx, Map<String, CertificateSource> certificates, Map<String, ClientSet> clientSets,
            Limits defaultLimits) {
        this.ctx = ctx;
        this.in = ctx.in();
        this.tlsSection = new TlsSection(ctx, certificates);
        this.backendSection = new BackendSection(ctx);
        this.accessSection = new AccessSection(ctx, clientSets);
        this.limitsSection = new LimitsSection(ctx);
        this.defaultLimits = defaultLimits;
    }

    /** Every rule read so far that has a name, with or without problems, in file order. */
    List<RuleOutline> outlines() {
        return List.copyOf(outlines);
    }

    /** The rule at {@code path}; empty after any problem in it. */
    Optional<Rule> read(YamlNode node, String path) {
        MapNode map = in.map(node, path).orElse(null);
        if (map == null) {
            return Optional.empty();
        }
        int before = ctx.problemCount();
        // Problems at one position (every missing key is reported at the rule's) keep the order of these calls.
        in.onlyKeys(map, path, RULE_KEYS);
        String name = name(map, path);
        boolean enabled = in.entry(map, "enabled").flatMap(e -> in.bool(e.value(), child(path, "enabled")))
                .orElse(true);
        List<HostPort> listen = listen(map, path);
        Protocol protocol = protocol(map, path);
        TlsMode tlsMode = tlsSection.mode(map, path, protocol);
        LoginSettings login = login(map, path, protocol);
        LoginSettings.SecureChannel secureChannel = secureChannel(map, path, protocol, tlsMode);
        SmtpSettings smtp = smtp(map, path, protocol);
        List<String> certNames = tlsSection.certificateNames(map, path, tlsMode);
        Backend backend = backend(map, path, protocol);
        Access access = in.entry(map, "access").map(e -> accessSection.read(e.value(), child(path, "access")))
                .orElse(Access.any());
        Limits limits = limits(map, path, protocol);
        if (name != null) {
            outlines.add(new RuleOutline(name, enabled, listen, certNames == null ? List.of() : certNames,
                    map.position()));
        }
        Optional<ClientList> acceptProxy = in.entry(map, "acceptProxyProtocol")
                .map(e -> accessSection.acceptProxyProtocol(e.value(), child(path, "acceptProxyProtocol")));

        if (ctx.problemCount() > before || name == null || protocol == null || tlsMode == null || access == null
                || login == null || secureChannel == null || smtp == null || listen.isEmpty() || backend == null
                || limits == null
                || (acceptProxy.isPresent() && acceptProxy.get().isEmpty())) {
            return Optional.empty();
        }
        TlsSettings tls = tlsMode == TlsMode.NONE
                ? TlsSettings.none()
                : tlsSection.settings(map, path, tlsMode, certNames);
        if (tls == null) {
            return Optional.empty();
        }
        return Optional.of(new Rule(name, enabled, listen, protocol, tls,
                new LoginSettings(login.policy(), login.challengeResponseWithoutTls(), secureChannel), smtp, backend,
                access, limits,
                acceptProxy, map.position()));
    }

    private String name(MapNode map, String path) {
        return in.required(map, path, "name").flatMap(e -> in.text(e.value(), child(path, "name")))
                .filter(s -> ctx.checkName(s.text(), s.position(), child(path, "name"), "rule"))
                .map(YamlNode.Scalar::text).orElse(null);
    }

    /** The addresses to listen on, each once. */
    private List<HostPort> listen(MapNode map, String path) {
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
        return listen;
    }

    private Protocol protocol(MapNode map, String path) {
        return in.required(map, path, "protocol")
                .flatMap(e -> in.text(e.value(), child(path, "protocol")))
                .flatMap(s -> ctx.word(s, child(path, "protocol"), Protocol.fromConfigName(s.text()),
                        "pop3, imap, smtp or tcp"))
                .orElse(null);
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

    /**
     * {@code secureChannel}: mail rules only; {@code required} needs a way to TLS on the plaintext-first port, which
     * {@code tls: none} does not offer (every session would be refused).
     */
    private LoginSettings.SecureChannel secureChannel(MapNode map, String path, Protocol protocol, TlsMode tlsMode) {
        Optional<Entry> entry = in.entry(map, "secureChannel");
        if (entry.isEmpty()) {
            return LoginSettings.SecureChannel.AUDIT;
        }
        String key = child(path, "secureChannel");
        if (protocol == Protocol.TCP) {
            in.problem(entry.get().keyPosition(), key,
                    "applies to pop3, imap and smtp only: a tcp rule relays bytes without reading commands");
            return LoginSettings.SecureChannel.AUDIT;
        }
        LoginSettings.SecureChannel value = in.text(entry.get().value(), key)
                .flatMap(s -> ctx.word(s, key, LoginSettings.SecureChannel.fromConfigName(s.text()),
                        "off, audit or required"))
                .orElse(null);
        if (value == LoginSettings.SecureChannel.REQUIRED && tlsMode == TlsMode.NONE) {
            in.problem(entry.get().value().position(), key, "required needs tls: starttls (or implicit): with tls: "
                    + "none no client could ever start TLS, so every mail transaction and login would be refused");
        }
        return value;
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

    /** The backend, told whether the rule is transparent (which is the rule's key, not the backend's). */
    private Backend backend(MapNode map, String path, Protocol protocol) {
        boolean transparent = in.entry(map, "transparent").flatMap(e -> in.bool(e.value(), child(path, "transparent")))
                .orElse(false);
        return in.required(map, path, "backend")
                .map(e -> backendSection.read(e.value(), child(path, "backend"), protocol))
                .map(b -> transparent ? b.withTransparent(true) : b).orElse(null);
    }

    /** The rule's limits over the file's; a tcp rule ignores, with a warning, the ones about logging in and greeting. */
    private Limits limits(MapNode map, String path, Protocol protocol) {
        Optional<MapNode> limitsMap = in.entry(map, "limits").flatMap(e -> in.map(e.value(), child(path, "limits")));
        Limits limits = limitsMap.map(m -> limitsSection.read(m, child(path, "limits"), defaultLimits))
                .orElse(defaultLimits);
        if (protocol == Protocol.TCP) {
            limitsMap.ifPresent(m -> limitsSection.warnMailOnlyKeys(m, child(path, "limits")));
            backendSection.warnGreetingTimeoutIgnored(map, path);
        }
        return limits;
    }
}
