package org.gatehouse.rules.load;

import static org.gatehouse.rules.load.NodeReader.child;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.CertificateSource.Acme;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Secret;
import org.gatehouse.rules.load.NodeReader.Item;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.MapNode;

/** Reads a certificate's {@code acme:} settings (see {@link Acme}). */
final class AcmeSection {

    private static final Set<String> KEYS = Set.of("directory", "contact", "names", "keyType", "http01", "tlsAlpn01",
            "httpRedirect", "eab", "caCertificate");
    private static final Set<String> EAB_KEYS = Set.of("keyId", "hmacKey");

    private final LoadContext ctx;
    private final NodeReader in;
    private final BiFunction<YamlNode, String, Secret> secrets;

    AcmeSection(LoadContext ctx, BiFunction<YamlNode, String, Secret> secrets) {
        this.ctx = ctx;
        this.in = ctx.in();
        this.secrets = secrets;
    }

    Optional<CertificateSource> read(Entry certificate, YamlNode node, String path) {
        MapNode map = in.map(node, path).orElse(null);
        if (map == null) {
            return Optional.empty();
        }
        int before = ctx.problemCount();
        in.onlyKeys(map, path, KEYS);
        Optional<URI> directory = in.required(map, path, "directory")
                .flatMap(e -> in.text(e.value(), child(path, "directory")))
                .flatMap(s -> url(s, child(path, "directory"), "https"));
        List<String> contact = new ArrayList<>();
        in.entry(map, "contact").ifPresent(e -> {
            for (Item item : in.textList(e.value(), child(path, "contact"))) {
                if (!item.text().startsWith("mailto:") || item.text().length() < 10 || !item.text().contains("@")) {
                    in.problem(item.position(), item.path(), '"' + item.text()
                            + "\" is not a mailto: address (expected: mailto:postmaster@example.com)");
                } else {
                    contact.add(item.text());
                }
            }
        });
        List<String> names = names(map, path);
        Acme.KeyType keyType = in.entry(map, "keyType").flatMap(e -> in.text(e.value(), child(path, "keyType")))
                .flatMap(s -> ctx.word(s, child(path, "keyType"), Acme.KeyType.fromConfigName(s.text()),
                        "ec-p256 or rsa-2048"))
                .orElse(Acme.KeyType.EC_P256);
        Optional<HostPort> http01 = in.entry(map, "http01").flatMap(e -> in.text(e.value(), child(path, "http01")))
                .flatMap(s -> ctx.listenAddress(new Item(s.text(), s.position(), child(path, "http01"))));
        boolean tlsAlpn01 = in.entry(map, "tlsAlpn01").flatMap(e -> in.bool(e.value(), child(path, "tlsAlpn01")))
                .orElse(false);
        Optional<String> redirect = in.entry(map, "httpRedirect")
                .flatMap(e -> in.text(e.value(), child(path, "httpRedirect")))
                .flatMap(s -> url(s, child(path, "httpRedirect"), "https")).map(URI::toString);
        Optional<Acme.ExternalAccount> eab = in.entry(map, "eab").flatMap(e -> eab(e.value(), child(path, "eab")));
        Optional<Path> ca = in.entry(map, "caCertificate")
                .flatMap(e -> in.text(e.value(), child(path, "caCertificate"))).map(s -> ctx.resolve(s.text()));
        if (http01.isEmpty() && !tlsAlpn01) {
            in.problem(map.position(), path, "has no challenge the gateway can answer (expected http01: "
                    + "\"0.0.0.0:80\", a listener of the gateway's own for the CA's http-01 requests, or tlsAlpn01: "
                    + "true, answered on the gateway's TLS listeners)");
        }
        if (ctx.problemCount() > before || directory.isEmpty() || names.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Acme(certificate.key(), directory.get(), contact, names, keyType, http01, tlsAlpn01,
                redirect, eab, ca, certificate.keyPosition()));
    }

    private List<String> names(MapNode map, String path) {
        List<String> names = new ArrayList<>();
        Optional<Entry> entry = in.required(map, path, "names");
        if (entry.isEmpty()) {
            return names;
        }
        for (Item item : in.textList(entry.get().value(), child(path, "names"))) {
            String name = item.text();
            if (!HostPort.isHostName(name.startsWith("*.") ? name.substring(2) : name) || !name.contains(".")) {
                in.problem(item.position(), item.path(), '"' + name
                        + "\" is not a public DNS name (expected: mail.example.com; an ACME CA signs names, not "
                        + "addresses)");
            } else if (name.startsWith("*.")) {
                in.problem(item.position(), item.path(), '"' + name
                        + "\" is a wildcard, which needs the dns-01 challenge (expected one name per host)");
            } else {
                names.add(name);
            }
        }
        if (names.isEmpty() && ctx.problemCount() == 0) {
            in.problem(entry.get().value().position(), child(path, "names"), "names no host (expected at least one)");
        }
        return names;
    }

    private Optional<URI> url(YamlNode.Scalar s, String path, String scheme) {
        try {
            URI uri = new URI(s.text());
            if (scheme.equals(uri.getScheme()) && uri.getHost() != null) {
                return Optional.of(uri);
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        in.problem(s.position(), path, '"' + s.text() + "\" is not an " + scheme
                + " URL (expected: https://acme-v02.api.letsencrypt.org/directory)");
        return Optional.empty();
    }

    private Optional<Acme.ExternalAccount> eab(YamlNode node, String path) {
        MapNode map = in.map(node, path).orElse(null);
        if (map == null) {
            return Optional.empty();
        }
        in.onlyKeys(map, path, EAB_KEYS);
        Optional<String> keyId = in.required(map, path, "keyId").flatMap(e -> in.text(e.value(), child(path, "keyId")))
                .map(YamlNode.Scalar::text);
        Optional<Secret> hmac = in.required(map, path, "hmacKey")
                .map(e -> secrets.apply(e.value(), child(path, "hmacKey")));
        if (keyId.isEmpty() || hmac.isEmpty() || hmac.get() == null) {
            return Optional.empty();
        }
        return Optional.of(new Acme.ExternalAccount(keyId.get(), hmac.get()));
    }
}
