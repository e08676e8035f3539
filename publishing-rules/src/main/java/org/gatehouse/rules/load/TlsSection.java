package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.child;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.ConfigWord;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.rules.TlsPolicy;
import org.gatehouse.rules.TlsSettings;
import org.gatehouse.rules.load.NodeReader.Item;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.MapNode;

/** Reads a rule's TLS keys: tls, certificate, tlsPolicy, protocols, ciphers, publicName and clientCertificate. */
final class TlsSection {

    /** The keys that only mean something when the rule speaks TLS; certificate is checked on its own. */
    private static final Set<String> TLS_KEYS = Set.of("tlsPolicy", "protocols", "ciphers", "publicName",
            "clientCertificate");
    private static final Set<String> CLIENT_CERT_KEYS = Set.of("mode", "trust");
    private static final List<String> TLS_VERSIONS = List.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");
    /** Cipher name parts that mean under 128 bits of strength, or no encryption or authentication at all. */
    private static final List<String> WEAK_CIPHER_PARTS = List.of("NULL", "EXPORT", "_DES_", "DES40", "3DES", "DES_EDE",
            "RC4", "RC2", "_anon_", "IDEA", "SEED");

    private final LoadContext ctx;
    private final NodeReader in;
    private final Map<String, CertificateSource> certificates;

    TlsSection(LoadContext ctx, Map<String, CertificateSource> certificates) {
        this.ctx = ctx;
        this.in = ctx.in();
        this.certificates = certificates;
    }

    /** {@code tls:} implicit (the default), starttls (mail protocols only) or none; null after a problem. */
    TlsMode mode(MapNode map, String path, Protocol protocol) {
        TlsMode tlsMode = in.entry(map, "tls")
                .flatMap(e -> in.text(e.value(), child(path, "tls")))
                .flatMap(s -> ctx.word(s, child(path, "tls"), TlsMode.fromConfigName(s.text()),
                        "implicit, starttls or none"))
                .orElse(in.entry(map, "tls").isPresent() ? null : TlsMode.IMPLICIT);
        if (tlsMode == TlsMode.STARTTLS && protocol == Protocol.TCP) {
            Entry tlsEntry = in.entry(map, "tls").orElseThrow();
            in.problem(tlsEntry.value().position(), child(path, "tls"),
                    "\"starttls\" needs a mail protocol to ask for it (expected implicit or none for tcp)");
        }
        return tlsMode;
    }

    /** The certificates the rule names, each defined under certificates; with tls none, a warning for each TLS key. */
    List<String> certificateNames(MapNode map, String path, TlsMode tlsMode) {
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
                        in.problem(item.position(), item.path(),
                                "unknown certificate \"" + item.text() + "\" ("
                                        + Suggestions.closest(item.text(), certificates.keySet())
                                                .map(c -> "did you mean " + c + "? ").orElse("")
                                        + "expected " + LoadContext.known(certificates.keySet(), "certificates")
                                        + ")");
                    } else if (certNames.contains(item.text())) {
                        in.problem(item.position(), item.path(), "certificate \"" + item.text() + "\" is listed twice");
                    } else {
                        certNames.add(item.text());
                    }
                }
            });
        }
        return certNames;
    }

    /** The TLS keys of a rule that speaks TLS; null after a problem. */
    TlsSettings settings(MapNode map, String path, TlsMode mode, List<String> certNames) {
        int before = ctx.problemCount();
        TlsPolicy policy = policy(map, path);
        List<String> protocols = in.entry(map, "protocols").map(e -> protocols(e.value(), child(path, "protocols")))
                .orElse(List.of());
        List<String> ciphers = in.entry(map, "ciphers").map(e -> ciphers(e.value(), child(path, "ciphers")))
                .orElse(List.of());
        Optional<String> publicName = in.entry(map, "publicName")
                .flatMap(e -> in.text(e.value(), child(path, "publicName")))
                .flatMap(t -> publicName(t, child(path, "publicName")));
        Optional<TlsSettings.ClientCertificate> clientCertificate = in.entry(map, "clientCertificate")
                .flatMap(e -> in.map(e.value(), child(path, "clientCertificate")))
                .flatMap(m -> clientCertificate(m, child(path, "clientCertificate")));
        if (ctx.problemCount() > before) {
            return null;
        }
        return new TlsSettings(mode, certNames, policy, protocols, ciphers, publicName, clientCertificate);
    }

    private TlsPolicy policy(MapNode map, String path) {
        TlsPolicy policy = in.entry(map, "tlsPolicy").flatMap(e -> in.text(e.value(), child(path, "tlsPolicy")))
                .flatMap(t -> ctx.word(t, child(path, "tlsPolicy"), TlsPolicy.fromConfigName(t.text()),
                        "modern, intermediate or legacy"))
                .orElse(TlsPolicy.INTERMEDIATE);
        if (policy == TlsPolicy.LEGACY) {
            ctx.warn(in.entry(map, "tlsPolicy").orElseThrow().value().position(), child(path, "tlsPolicy"),
                    "legacy offers TLS 1.0 and 1.1 and CBC ciphers: use it only for clients that cannot do better");
        }
        return policy;
    }

    private List<String> protocols(YamlNode node, String path) {
        List<String> protocols = new ArrayList<>();
        for (Item item : in.textList(node, path)) {
            if (!TLS_VERSIONS.contains(item.text())) {
                in.problem(item.position(), item.path(), '"' + item.text() + "\" (expected "
                        + String.join(", ", TLS_VERSIONS) + "; SSL versions are never offered)");
            } else {
                protocols.add(item.text());
            }
        }
        return protocols;
    }

    private List<String> ciphers(YamlNode node, String path) {
        List<String> ciphers = new ArrayList<>();
        for (Item item : in.textList(node, path)) {
            String weak = WEAK_CIPHER_PARTS.stream().filter(w -> item.text().toUpperCase(Locale.ROOT)
                    .contains(w.toUpperCase(Locale.ROOT))).findFirst().orElse(null);
            if (weak != null) {
                in.problem(item.position(), item.path(), '"' + item.text() + "\" is under 128 bits or leaves data "
                        + "unprotected (" + weak
                        + "; expected AES-GCM, ChaCha20-Poly1305 or AES-CBC with 128 or 256 bits)");
            } else if (!item.text().startsWith("TLS_")) {
                in.problem(item.position(), item.path(), '"' + item.text() + "\" is not a standard cipher suite name "
                        + "(expected the IANA name, as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)");
            } else {
                ciphers.add(item.text());
            }
        }
        return ciphers;
    }

    /** The name clients connect to, in lower case. */
    private Optional<String> publicName(YamlNode.Scalar t, String path) {
        if (HostPort.isHostName(t.text())) {
            return Optional.of(t.text().toLowerCase(Locale.ROOT));
        }
        in.problem(t.position(), path, '"' + t.text()
                + "\" is not a host name (expected the name clients connect to, as mail.example.com)");
        return Optional.empty();
    }

    private Optional<TlsSettings.ClientCertificate> clientCertificate(MapNode map, String path) {
        in.onlyKeys(map, path, CLIENT_CERT_KEYS);
        Optional<TlsSettings.ClientCertificate.Mode> mode = in.required(map, path, "mode")
                .flatMap(e -> in.text(e.value(), child(path, "mode")))
                .flatMap(
                        t -> ctx.word(t, child(path, "mode"), ConfigWord.parse(TlsSettings.ClientCertificate.Mode.class,
                                t.text()), "require or optional"));
        Optional<Path> trust = in.required(map, path, "trust").flatMap(e -> in.text(e.value(), child(path, "trust")))
                .flatMap(t -> {
                    Path file = ctx.resolve(t.text());
                    String why = LoadContext.unreadable(file, BoundedFile.MAX_CERTIFICATE_FILE,
                            "a CA certificate file");
                    if (why != null) {
                        in.problem(t.position(), child(path, "trust"), why);
                        return Optional.empty();
                    }
                    return Optional.of(file);
                });
        return mode.isPresent() && trust.isPresent()
                ? Optional.of(new TlsSettings.ClientCertificate(mode.get(), trust.get()))
                : Optional.empty();
    }
}
