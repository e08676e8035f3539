package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.child;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Secret;
import org.gatehouse.rules.load.NodeReader.Item;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.MapNode;
import org.gatehouse.rules.match.IpLiteral;

/** Reads certificates (PEM files, PKCS#12 or self-signed, secrets by reference) and checks the files they name. */
final class CertificatesSection {

    private static final Set<String> PEM_KEYS = Set.of("certificate", "privateKey", "passphrase");
    private static final Set<String> PKCS12_KEYS = Set.of("pkcs12", "password");
    private static final Set<String> CERT_KEYS = Set.of("certificate", "privateKey", "passphrase", "pkcs12", "password",
            "allowExpired", "ocspStapling", "selfSigned", "acme");

    private static final Set<String> SECRET_KEYS = Set.of("env", "file");

    private final LoadContext ctx;
    private final NodeReader in;

    CertificatesSection(LoadContext ctx) {
        this.ctx = ctx;
        this.in = ctx.in();
    }

    /** The certificates by name, in the order written; one with a problem is left out, or kept with the problem noted. */
    Map<String, CertificateSource> read(YamlNode node) {
        Map<String, CertificateSource> out = new LinkedHashMap<>();
        MapNode map = in.map(node, "certificates").orElse(null);
        if (map == null) {
            return out;
        }
        for (Entry e : map.entries().values()) {
            String path = child("certificates", e.key());
            if (ctx.checkName(e.key(), e.keyPosition(), path, "certificate")) {
                in.map(e.value(), path).flatMap(def -> certificate(e, def, path)).ifPresent(c -> out.put(e.key(), c));
            }
        }
        return out;
    }

    private Optional<CertificateSource> certificate(Entry e, MapNode def, String path) {
        in.onlyKeys(def, path, CERT_KEYS);
        boolean selfSigned = def.entries().containsKey("selfSigned");
        boolean acme = def.entries().containsKey("acme");
        boolean pem = def.entries().keySet().stream().anyMatch(PEM_KEYS::contains);
        boolean pkcs12 = def.entries().keySet().stream().anyMatch(PKCS12_KEYS::contains);
        if ((selfSigned ? 1 : 0) + (pem ? 1 : 0) + (pkcs12 ? 1 : 0) + (acme ? 1 : 0) > 1) {
            in.problem(def.position(), path, "mixes "
                    + (acme ? "acme, " : "") + (selfSigned ? "selfSigned, " : "") + (pem
                            ? "PEM files (certificate, "
                                    + "privateKey), "
                            : "")
                    + (pkcs12 ? "a PKCS#12 file (pkcs12), " : "")
                    + "which are different ways to give a certificate (expected one of them)");
            return Optional.empty();
        }
        boolean allowExpired = in.entry(def, "allowExpired")
                .flatMap(a -> in.bool(a.value(), child(path, "allowExpired")))
                .orElse(false);
        boolean ocsp = in.entry(def, "ocspStapling").flatMap(a -> in.bool(a.value(), child(path, "ocspStapling")))
                .orElse(false);
        if (pkcs12) {
            return pkcs12(e, def, path, allowExpired, ocsp);
        }
        if (selfSigned) {
            return selfSigned(e, def, path);
        }
        if (acme) {
            return new AcmeSection(ctx, this::secret).read(e, def.entries().get("acme").value(), child(path, "acme"));
        }
        return pemFiles(e, def, path, allowExpired, ocsp);
    }

    private Optional<CertificateSource> pkcs12(Entry e, MapNode def, String path, boolean allowExpired, boolean ocsp) {
        Optional<Path> file = in.required(def, path, "pkcs12")
                .flatMap(c -> in.text(c.value(), child(path, "pkcs12"))).map(t -> ctx.resolve(t.text()));
        Optional<Secret> password = in.entry(def, "password").map(p -> secret(p.value(), child(path, "password")));
        if (file.isPresent() && password.map(p -> p != null).orElse(true)) {
            return Optional.of(new CertificateSource.Pkcs12(e.key(), file.get(), password, allowExpired, ocsp,
                    e.keyPosition()));
        }
        return Optional.empty();
    }

    private Optional<CertificateSource> selfSigned(Entry e, MapNode def, String path) {
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
            in.problem(names.value().position(), child(path, "selfSigned"),
                    "names no host (expected at least one name)");
        } else if (NodeReader.isNull(names.value())) {
            in.problem(names.value().position(), child(path, "selfSigned"), "is required (a list of names)");
        } else {
            return Optional.of(new CertificateSource.SelfSigned(e.key(), list, e.keyPosition()));
        }
        return Optional.empty();
    }

    /** A name a self-signed certificate may hold: a host name, or a wildcard over one. */
    private static boolean isDnsName(String text) {
        return HostPort.isHostName(text.startsWith("*.") ? text.substring(2) : text);
    }

    private Optional<CertificateSource> pemFiles(Entry e, MapNode def, String path, boolean allowExpired,
            boolean ocsp) {
        Optional<Path> cert = in.required(def, path, "certificate")
                .flatMap(c -> in.text(c.value(), child(path, "certificate"))).map(s -> ctx.resolve(s.text()));
        Optional<Path> key = in.required(def, path, "privateKey")
                .flatMap(c -> in.text(c.value(), child(path, "privateKey"))).map(s -> ctx.resolve(s.text()));
        Optional<Secret> passphrase = in.entry(def, "passphrase")
                .map(p -> secret(p.value(), child(path, "passphrase")));
        if (cert.isPresent() && key.isPresent() && passphrase.map(p -> p != null).orElse(true)) {
            return Optional.of(new CertificateSource.PemFiles(e.key(), cert.get(), key.get(), passphrase, allowExpired,
                    ocsp, e.keyPosition()));
        }
        return Optional.empty();
    }

    /**
     * Where a passphrase or password is read from: {@code { env: VARIABLE }} or {@code { file: PATH }}. Written inline,
     * it would sit in a file that is copied, versioned and printed: refused. Null after a problem.
     */
    Secret secret(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar) {
            in.problem(node.position(), path,
                    "is written in the rules file (expected where to read it: { env: VARIABLE } "
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
            return in.text(env.get().value(), child(path, "env")).<Secret>map(t -> new Secret.Environment(t.text()))
                    .orElse(null);
        }
        return in.text(file.get().value(), child(path, "file"))
                .<Secret>map(t -> new Secret.File(ctx.resolve(t.text()))).orElse(null);
    }

    /**
     * Certificate files must be readable when an enabled rule uses them. A certificate that only disabled rules use may
     * still be missing, as when the request is with the CA and the rule waits for it: that is a warning.
     */
    void checkFiles(Map<String, CertificateSource> certificates, List<RuleOutline> rules) {
        Map<String, String> usedBy = firstEnabledUsers(rules);
        for (CertificateSource source : certificates.values()) {
            String path = child("certificates", source.name());
            for (Map.Entry<String, Path> file : files(source).entrySet()) {
                boolean secret = file.getKey().endsWith(".file");
                String why = LoadContext.unreadable(file.getValue(), secret
                        ? BoundedFile.MAX_SECRET_FILE
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

    /** For each certificate an enabled rule uses, the first such rule's name. */
    private static Map<String, String> firstEnabledUsers(List<RuleOutline> rules) {
        Map<String, String> usedBy = new HashMap<>();
        for (RuleOutline r : rules) {
            if (r.enabled()) {
                for (String c : r.certificates()) {
                    usedBy.putIfAbsent(c, r.name());
                }
            }
        }
        return usedBy;
    }

    /** The files a certificate names, by the key that names them, in key order. */
    private static Map<String, Path> files(CertificateSource source) {
        Map<String, Path> files = new TreeMap<>();
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
        return files;
    }
}
