package org.gatehouse.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.RulesException;
import org.gatehouse.rules.TlsPolicy;
import org.gatehouse.rules.TlsSettings;
import org.gatehouse.rules.load.BoundedFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the listeners need to speak TLS, built and checked when the rules are loaded so that a bad key, a broken
 * chain or an expired certificate fails {@code gatehouse check} and never the first client: each certificate's
 * material, and for each rule a server {@link SslContext} per certificate (its {@code tlsPolicy}, versions, ciphers
 * and client-certificate settings), chosen by SNI when the rule has several.
 *
 * <p>Session resumption is on: the JDK engine keeps its session cache; the OpenSSL engine issues session tickets,
 * whose key {@link #rotateTicketKeys()} replaces (keeping the previous one so that tickets issued just before still
 * work).
 *
 * <p>With the OpenSSL engine the contexts are native and reference-counted (no finalizers, which cost every young
 * garbage collection several milliseconds at a few thousand handshakes per second). A new {@code TlsContexts} holds
 * one reference for its owner (the gateway, or a command that only checks); each connection that may still start TLS
 * holds another ({@link #tryRetain()}). The last {@link #release()} frees the native contexts; engines made from them
 * keep their own reference until their connection ends.
 */
public final class TlsContexts {

    private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);

    /** Whether missing self-signed certificates may be generated (run) or only checked (check). */
    public enum Mode {
        RUN,
        CHECK
    }

    /** One rule's contexts: the first certificate's, and (with several certificates) the SNI mapping over all. */
    private record RuleContexts(SslContext primary, Mapping<String, SslContext> byName) {
    }

    private final TlsEngine engine;
    private final Map<String, RuleContexts> byRule;
    private final Map<String, Instant> expiries;
    private final List<Problem> warnings;
    private final Map<SslContext, OcspStapler> staplers;
    private final List<SslContext> all;
    private final AtomicInteger references = new AtomicInteger(1);
    private OpenSslSessionTicketKey ticketKey;
    /** Whether an ACME certificate asks for tls-alpn-01, which every implicit-TLS listener then answers. */
    private boolean answersAlpnChallenges;

    private TlsContexts(TlsEngine engine, Map<String, RuleContexts> byRule, Map<String, Instant> expiries,
            List<Problem> warnings, Map<SslContext, OcspStapler> staplers, List<SslContext> all) {
        this.engine = engine;
        this.all = List.copyOf(all);
        this.byRule = Map.copyOf(byRule);
        this.expiries = Map.copyOf(expiries);
        this.warnings = List.copyOf(warnings);
        this.staplers = new IdentityHashMap<>(staplers);
        rotateTicketKeys();
    }

    /**
     * Takes a reference, unless the contexts were released already (then the caller must use a newer snapshot's).
     * Whoever gets {@code true} calls {@link #release()} once when done.
     */
    public boolean tryRetain() {
        for (int n = references.get(); n > 0; n = references.get()) {
            if (references.compareAndSet(n, n + 1)) {
                return true;
            }
        }
        return false;
    }

    /** Gives a reference back; the last one frees the native contexts. */
    public void release() {
        int left = references.decrementAndGet();
        if (left == 0) {
            all.forEach(ReferenceCountUtil::release);
        } else if (left < 0) {
            throw new IllegalStateException("TLS contexts released more often than retained");
        }
    }

    /** Whether the native contexts are freed (no reference left). */
    public boolean released() {
        return references.get() <= 0;
    }

    /** Fetches OCSP responses that are missing or half-way through their validity; called periodically. */
    public void refreshOcspResponses() {
        new HashSet<>(staplers.values()).forEach(OcspStapler::refreshIfDue);
    }

    /** Hands the certificate's current OCSP response to a new engine, when stapling is on and a response is at hand. */
    private SslHandler stapled(SslContext context, SslHandler ssl) {
        OcspStapler stapler = staplers.get(context);
        byte[] response = stapler == null ? null : stapler.response();
        if (response != null && ssl.engine() instanceof ReferenceCountedOpenSslEngine openSsl) {
            openSsl.setOcspResponse(response);
        }
        return ssl;
    }

    public TlsEngine engine() {
        return engine;
    }

    /** When each certificate in use expires (its leaf's notAfter), by certificate name. */
    public Map<String, Instant> expiries() {
        return expiries;
    }

    /** Things to tell the operator that do not stop the rules (a certificate expiring soon, a name mismatch). */
    public List<Problem> warnings() {
        return warnings;
    }

    /**
     * The handler that speaks TLS for a new connection of {@code rule}: an {@link SslHandler}, or with several
     * certificates an {@link SniHandler} that picks one by the name the client asks for and then replaces itself with
     * the {@link SslHandler}.
     */
    public ChannelHandler newHandler(Rule rule, ByteBufAllocator alloc, long handshakeTimeoutMillis) {
        RuleContexts contexts = byRule.get(rule.name());
        if (contexts == null) {
            throw new IllegalStateException("no TLS context for rule " + rule.name());
        }
        if (answersAlpnChallenges) {
            Mapping<String, SslContext> byName = contexts.byName() != null
                    ? contexts.byName()
                    : name -> contexts.primary();
            return new AlpnChallengeSniHandler(byName, handshakeTimeoutMillis, AlpnChallenges.shared(), this::stapled);
        }
        if (contexts.byName() == null) {
            SslHandler ssl = contexts.primary().newHandler(alloc);
            ssl.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
            return stapled(contexts.primary(), ssl);
        }
        return new SniHandler(contexts.byName(), handshakeTimeoutMillis) {
            @Override
            protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
                SslHandler ssl = super.newSslHandler(context, allocator);
                ssl.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
                return stapled(context, ssl);
            }
        };
    }

    /**
     * A new session-ticket key for every OpenSSL context, the previous one kept for decrypting tickets issued before.
     * Called at build and then periodically by the gateway.
     */
    public synchronized void rotateTicketKeys() {
        List<ReferenceCountedOpenSslContext> openSsl = all.stream()
                .filter(ReferenceCountedOpenSslContext.class::isInstance)
                .map(ReferenceCountedOpenSslContext.class::cast).toList();
        if (openSsl.isEmpty() || !tryRetain()) {
            return; // the JDK engine keeps its own session cache; freed contexts need no key
        }
        try {
            setTicketKeys(openSsl);
        } finally {
            release();
        }
    }

    private void setTicketKeys(List<ReferenceCountedOpenSslContext> contexts) {
        SecureRandom random = new SecureRandom();
        byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
        byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
        byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
        random.nextBytes(name);
        random.nextBytes(hmac);
        random.nextBytes(aes);
        OpenSslSessionTicketKey next = new OpenSslSessionTicketKey(name, hmac, aes);
        OpenSslSessionTicketKey[] keys = ticketKey == null
                ? new OpenSslSessionTicketKey[]{next}
                : new OpenSslSessionTicketKey[]{next, ticketKey};
        for (ReferenceCountedOpenSslContext context : contexts) {
            context.sessionContext().setTicketKeys(keys);
        }
        ticketKey = next;
    }

    /**
     * Loads and checks the material of every certificate enabled rules use (and of the others whose files exist), and
     * builds each TLS rule's contexts. Every problem is reported at the certificate's (or rule's) place in the file.
     */
    public static TlsContexts build(PublishingRules rules, TlsEngine engine, Mode mode) throws RulesException {
        List<Problem> problems = new ArrayList<>();
        List<Problem> warnings = new ArrayList<>();
        Map<String, TlsMaterial> materials = new LinkedHashMap<>();
        Instant now = Instant.now();
        Set<String> inUse = rules.certificatesInUse().stream().map(CertificateSource::name).collect(Collectors.toSet());
        for (CertificateSource source : rules.certificates().values()) {
            boolean used = inUse.contains(source.name());
            String path = "certificates." + source.name();
            try {
                TlsMaterial material = material(source, used, rules.stateDir(), mode, warnings);
                if (material != null) {
                    Optional<String> warning = CertificateMaterial.checkValidity(material, source.allowExpired(), now);
                    warning.ifPresent(w -> warnings.add(new Problem(source.position(), path, w)));
                    CertificateChains.missingIssuer(material.chain())
                            .ifPresent(w -> warnings.add(new Problem(source.position(), path, w)));
                    if (used) {
                        materials.put(source.name(), material);
                    }
                }
            } catch (CertificateMaterial.MaterialException e) {
                problems.add(new Problem(source.position(), path + e.key, e.getMessage()));
            }
        }
        Map<String, OcspStapler> staplerByCertificate = staplers(rules, materials, engine, mode, warnings);
        Map<SslContext, OcspStapler> staplers = new IdentityHashMap<>();
        Map<String, RuleContexts> byRule = new LinkedHashMap<>();
        List<SslContext> all = new ArrayList<>();
        for (Rule rule : rules.enabledRules()) {
            TlsSettings tls = rule.tls();
            if (!tls.enabled() || !tls.certificates().stream().allMatch(materials::containsKey)) {
                continue; // a certificate problem is reported already
            }
            try {
                byRule.put(rule.name(), ruleContexts(rule, materials, engine, staplerByCertificate, staplers, all));
            } catch (CertificateMaterial.MaterialException e) {
                problems.add(new Problem(rule.position(), "rules." + rule.name() + e.key, e.getMessage()));
                continue;
            }
            publicNameWarning(rule, materials).ifPresent(warnings::add);
            if (tls.policy() == TlsPolicy.LEGACY && engine.provider() == SslProvider.JDK) {
                warnings.add(new Problem(rule.position(), "rules." + rule.name() + ".tlsPolicy", "the JDK's TLS engine "
                        + "refuses TLS 1.0 and 1.1 whatever the policy says; legacy clients need the OpenSSL engine"));
            }
        }
        if (!problems.isEmpty()) {
            all.forEach(ReferenceCountUtil::release);
            throw new RulesException(problems);
        }
        Map<String, Instant> expiries = new LinkedHashMap<>();
        materials.forEach((name, m) -> expiries.put(name, m.leaf().getNotAfter().toInstant()));
        TlsContexts built = new TlsContexts(engine, byRule, expiries, warnings, staplers, all);
        built.answersAlpnChallenges = rules.certificates().values().stream()
                .anyMatch(c -> c instanceof CertificateSource.Acme acme && acme.tlsAlpn01());
        return built;
    }

    /**
     * A stapler per certificate that asks for OCSP stapling and can have one (the OpenSSL engine, a responder URL, an
     * issuer in the chain); a warning for each that cannot. At run time the first response is fetched now.
     */
    private static Map<String, OcspStapler> staplers(PublishingRules rules, Map<String, TlsMaterial> materials,
            TlsEngine engine, Mode mode, List<Problem> warnings) {
        Map<String, OcspStapler> out = new LinkedHashMap<>();
        for (CertificateSource source : rules.certificates().values()) {
            TlsMaterial material = materials.get(source.name());
            if (!source.ocspStapling() || material == null) {
                continue;
            }
            String path = "certificates." + source.name() + ".ocspStapling";
            if (engine.provider() == SslProvider.JDK) {
                warnings.add(new Problem(source.position(), path, "needs the OpenSSL engine; this gateway runs the "
                        + engine.description() + ", so nothing is stapled"));
                continue;
            }
            OcspStapler.StaplerOrReason s = OcspStapler.forMaterial(material);
            if (s.stapler() == null) {
                warnings.add(new Problem(source.position(), path, "is off: " + s.reason()));
                continue;
            }
            if (mode == Mode.RUN) {
                s.stapler().refreshIfDue();
            }
            out.put(source.name(), s.stapler());
        }
        return out;
    }

    private static RuleContexts ruleContexts(Rule rule, Map<String, TlsMaterial> materials, TlsEngine engine,
            Map<String, OcspStapler> staplerByCertificate, Map<SslContext, OcspStapler> staplers, List<SslContext> all)
            throws CertificateMaterial.MaterialException {
        List<String> names = rule.tls().certificates();
        SslContext primary = null;
        DomainWildcardMappingBuilder<SslContext> sni = null;
        for (String name : names) {
            OcspStapler stapler = staplerByCertificate.get(name);
            SslContext context = newServerContext(materials.get(name), rule.tls(), engine, stapler != null);
            all.add(context);
            if (stapler != null) {
                staplers.put(context, stapler);
            }
            if (primary == null) {
                primary = context;
                if (names.size() > 1) {
                    sni = new DomainWildcardMappingBuilder<>(primary);
                }
            }
            if (sni != null) {
                for (String host : CertificateMaterial.names(materials.get(name).leaf())) {
                    sni.add(host, context);
                }
            }
        }
        return new RuleContexts(primary, sni == null ? null : sni.build());
    }

    /** A warning when the name clients use is not among the names of the rule's certificates. */
    private static Optional<Problem> publicNameWarning(Rule rule, Map<String, TlsMaterial> materials) {
        Optional<String> publicName = rule.tls().publicName();
        if (publicName.isEmpty()) {
            return Optional.empty();
        }
        List<String> covered = new ArrayList<>();
        for (String name : rule.tls().certificates()) {
            covered.addAll(CertificateMaterial.names(materials.get(name).leaf()));
        }
        if (CertificateMaterial.covers(covered, publicName.get())) {
            return Optional.empty();
        }
        return Optional.of(new Problem(rule.position(), "rules." + rule.name() + ".publicName", publicName.get()
                + " is not among the names the certificate"
                + (rule.tls().certificates().size() > 1 ? "s cover" : " covers")
                + " (" + String.join(", ", covered) + "): clients connecting to " + publicName.get()
                + " will warn that the name does not match"));
    }

    /** The certificate's key and chain, or null for one no enabled rule uses and whose files are not there. */
    private static TlsMaterial material(CertificateSource source, boolean used, Path stateDir, Mode mode,
            List<Problem> warnings) throws CertificateMaterial.MaterialException {
        if (source instanceof CertificateSource.PemFiles pem) {
            return used || exists(pem) ? CertificateMaterial.loadPem(pem) : null;
        } else if (source instanceof CertificateSource.Pkcs12 p12) {
            return used || Files.exists(p12.file()) ? CertificateMaterial.loadPkcs12(p12) : null;
        } else if (source instanceof CertificateSource.SelfSigned self && used) {
            return selfSigned(stateDir, self, mode);
        } else if (source instanceof CertificateSource.Acme acme && used) {
            AcmeFiles.Loaded loaded = AcmeFiles.load(stateDir, acme);
            if (loaded.temporary()) {
                warnings.add(new Problem(source.position(), "certificates." + source.name(), "no certificate from "
                        + "the ACME CA yet: a temporary self-signed one for " + String.join(", ", acme.names())
                        + " is served until the CA issues it"));
            }
            return loaded.material();
        }
        return null;
    }

    private static boolean exists(CertificateSource.PemFiles pem) {
        return Files.exists(pem.certificate()) || Files.exists(pem.privateKey());
    }

    private static TlsMaterial selfSigned(Path stateDir, CertificateSource.SelfSigned self, Mode mode)
            throws CertificateMaterial.MaterialException {
        Path certFile = SelfSignedCertificates.certificateFile(stateDir, self.name());
        Path keyFile = SelfSignedCertificates.keyFile(stateDir, self.name());
        if (!SelfSignedCertificates.usable(stateDir, self.name(), self.names())) {
            if (mode == Mode.CHECK) {
                String why = writableProblem(certFile.getParent());
                if (why != null) {
                    throw new CertificateMaterial.MaterialException(".selfSigned",
                            "cannot generate the certificate on first start: " + why);
                }
                return null;
            }
            try {
                SelfSignedCertificates.generate(stateDir, self.name(), self.names());
                log.info("generated self-signed certificate name={} for={} file={}", self.name(), self.names(),
                        certFile);
            } catch (IOException | GeneralSecurityException e) {
                throw new CertificateMaterial.MaterialException(".selfSigned",
                        "cannot write the self-signed certificate to " + certFile.getParent()
                                + " (" + e.getMessage() + ")");
            }
        }
        try {
            return new TlsMaterial(self.name(), PemFiles.readKey(keyFile), PemFiles.readChain(certFile));
        } catch (PemFiles.PemException e) {
            throw new CertificateMaterial.MaterialException(".selfSigned", e.getMessage());
        }
    }

    /** Why a folder could not be created or written, or null if it can. */
    private static String writableProblem(Path dir) {
        Path p = dir;
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            return dir + " has no existing parent folder";
        }
        return Files.isDirectory(p) && Files.isWritable(p) ? null : p + " is not a writable folder";
    }

    /** The CA certificates a rule trusts for client certificates, read within the certificate-file bound. */
    private static InputStream trustedCas(Path file) throws CertificateMaterial.MaterialException {
        try {
            return new ByteArrayInputStream(BoundedFile.read(file,
                    BoundedFile.MAX_CERTIFICATE_FILE, "a CA certificate file"));
        } catch (IOException e) {
            throw new CertificateMaterial.MaterialException(".clientCertificate.trust",
                    e instanceof BoundedFile.TooLargeException
                            ? e.getMessage()
                            : "cannot read " + file
                                    + " (" + e.getClass().getSimpleName() + ")");
        }
    }

    static SslContext newServerContext(TlsMaterial material, TlsSettings tls, TlsEngine engine, boolean ocsp)
            throws CertificateMaterial.MaterialException {
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(material.key(), material.chain())
                    .sslProvider(engine.provider())
                    .enableOcsp(ocsp)
                    .protocols(TlsPolicies.protocols(tls))
                    .ciphers(TlsPolicies.ciphers(tls), SupportedCipherSuiteFilter.INSTANCE);
            if (tls.clientCertificate().isPresent()) {
                TlsSettings.ClientCertificate client = tls.clientCertificate().get();
                builder.trustManager(trustedCas(client.trust())).clientAuth(
                        client.mode() == TlsSettings.ClientCertificate.Mode.REQUIRE
                                ? ClientAuth.REQUIRE
                                : ClientAuth.OPTIONAL);
            }
            SslContext context = builder.build();
            if (!tls.ciphers().isEmpty() && context.cipherSuites().stream().noneMatch(tls.ciphers()::contains)) {
                ReferenceCountUtil.release(context);
                throw new CertificateMaterial.MaterialException("", "cannot build a TLS context: none of the ciphers "
                        + tls.ciphers() + " is supported by the " + engine.description());
            }
            return context;
        } catch (SSLException | RuntimeException e) {
            throw new CertificateMaterial.MaterialException("", "cannot build a TLS context from certificate "
                    + material.name() + " (" + e.getMessage() + ")");
        }
    }
}
