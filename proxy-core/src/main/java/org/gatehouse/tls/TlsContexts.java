package org.gatehouse.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;
import org.gatehouse.rules.CertificateSource;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.RulesException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server {@link SslContext} of every certificate that an enabled rule uses, built when the rules are loaded so that
 * a bad key or certificate fails {@code gatehouse check} and never the first client.
 */
public final class TlsContexts {

    private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);

    /** Whether missing self-signed certificates may be generated (run) or only checked (check). */
    public enum Mode { RUN, CHECK }

    private final TlsEngine engine;
    private final Map<String, SslContext> contexts;
    private final Map<String, Instant> expiries;

    private TlsContexts(TlsEngine engine, Map<String, SslContext> contexts, Map<String, Instant> expiries) {
        this.engine = engine;
        this.contexts = Map.copyOf(contexts);
        this.expiries = Map.copyOf(expiries);
    }

    /** When each certificate in use expires (its leaf's notAfter), by certificate name. */
    public Map<String, Instant> expiries() {
        return expiries;
    }

    public TlsEngine engine() {
        return engine;
    }

    /** The context a rule's listener uses. */
    public SslContext forRule(Rule rule) {
        String name = rule.tls().certificates().get(0);
        SslContext context = contexts.get(name);
        if (context == null) {
            throw new IllegalStateException("no TLS context for certificate " + name + " of rule " + rule.name());
        }
        return context;
    }

    /**
     * Loads and checks the material of every certificate enabled rules use (and of the others whose files exist), and
     * builds a context for each one in use. Every problem is reported at the certificate's place in the rules file.
     */
    public static TlsContexts build(PublishingRules rules, TlsEngine engine, Mode mode) throws RulesException {
        List<Problem> problems = new ArrayList<>();
        Map<String, SslContext> contexts = new LinkedHashMap<>();
        Map<String, Instant> expiries = new LinkedHashMap<>();
        Set<String> inUse = rules.certificatesInUse().stream().map(CertificateSource::name).collect(Collectors.toSet());
        for (CertificateSource source : rules.certificates().values()) {
            boolean used = inUse.contains(source.name());
            String path = "certificates." + source.name();
            try {
                TlsMaterial material = null;
                if (source instanceof CertificateSource.PemFiles pem) {
                    material = used || exists(pem) ? loadPem(pem) : null;
                } else if (source instanceof CertificateSource.SelfSigned self && used) {
                    material = selfSigned(rules.stateDir(), self, mode);
                }
                if (material != null && used) {
                    contexts.put(source.name(), newServerContext(material, engine));
                    expiries.put(source.name(), material.leaf().getNotAfter().toInstant());
                }
            } catch (MaterialException e) {
                problems.add(new Problem(source.position(), path + e.key, e.getMessage()));
            }
        }
        if (!problems.isEmpty()) {
            throw new RulesException(problems);
        }
        return new TlsContexts(engine, contexts, expiries);
    }

    private static boolean exists(CertificateSource.PemFiles pem) {
        return Files.exists(pem.certificate()) || Files.exists(pem.privateKey());
    }

    private static TlsMaterial loadPem(CertificateSource.PemFiles pem) throws MaterialException {
        List<X509Certificate> chain;
        try {
            chain = PemFiles.readChain(pem.certificate());
        } catch (PemFiles.PemException e) {
            throw new MaterialException(".certificate", e.getMessage());
        }
        java.security.PrivateKey key;
        try {
            key = PemFiles.readKey(pem.privateKey());
        } catch (PemFiles.PemException e) {
            throw new MaterialException(".privateKey", e.getMessage());
        }
        if (!PemFiles.matches(key, chain.get(0).getPublicKey())) {
            throw new MaterialException(".privateKey", "the private key in " + pem.privateKey()
                    + " does not match the certificate in " + pem.certificate() + " (subject "
                    + chain.get(0).getSubjectX500Principal().getName() + ")");
        }
        return new TlsMaterial(pem.name(), key, chain);
    }

    private static TlsMaterial selfSigned(Path stateDir, CertificateSource.SelfSigned self, Mode mode)
            throws MaterialException {
        Path certFile = SelfSignedCertificates.certificateFile(stateDir, self.name());
        Path keyFile = SelfSignedCertificates.keyFile(stateDir, self.name());
        if (!SelfSignedCertificates.usable(stateDir, self.name(), self.names())) {
            if (mode == Mode.CHECK) {
                String why = writableProblem(certFile.getParent());
                if (why != null) {
                    throw new MaterialException(".selfSigned", "cannot generate the certificate on first start: " + why);
                }
                return null;
            }
            try {
                SelfSignedCertificates.generate(stateDir, self.name(), self.names());
                log.info("generated self-signed certificate name={} for={} file={}", self.name(), self.names(), certFile);
            } catch (IOException | GeneralSecurityException e) {
                throw new MaterialException(".selfSigned", "cannot write the self-signed certificate to " + certFile.getParent()
                        + " (" + e.getMessage() + ")");
            }
        }
        try {
            return new TlsMaterial(self.name(), PemFiles.readKey(keyFile), PemFiles.readChain(certFile));
        } catch (PemFiles.PemException e) {
            throw new MaterialException(".selfSigned", e.getMessage());
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

    static SslContext newServerContext(TlsMaterial material, TlsEngine engine) throws MaterialException {
        try {
            return SslContextBuilder.forServer(material.key(), material.chain())
                    .sslProvider(engine.provider())
                    .protocols(TlsDefaults.PROTOCOLS)
                    .ciphers(TlsDefaults.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .build();
        } catch (SSLException | RuntimeException e) {
            throw new MaterialException("", "cannot build a TLS context from certificate " + material.name() + " ("
                    + e.getMessage() + ")");
        }
    }

    /** A problem with one certificate's material; {@code key} is the key path suffix it concerns. */
    static final class MaterialException extends Exception {
        private static final long serialVersionUID = 1L;
        final String key;

        MaterialException(String key, String message) {
            super(message);
            this.key = key;
        }
    }
}
