package org.gatehouse.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The tls-alpn-01 challenges in progress (RFC 8737), shared by the ACME client's thread, which puts one for each name
 * it asks the CA to validate and removes it once the CA has decided, and the TLS listeners' event loops, which serve
 * its certificate to a client that offers ALPN {@code acme-tls/1} for that name. One set for the process, since every
 * TLS listener answers for every ACME certificate; bounded ({@link #MAX_PENDING} names), each context on the JDK's
 * engine (nothing native to free).
 */
public final class AlpnChallenges {

    /** Names validated at once: an order holds a few; more means a fault, and the CA's validation then fails. */
    public static final int MAX_PENDING = 100;

    /** id-pe-acmeIdentifier (RFC 8737 section 6.1). */
    public static final ASN1ObjectIdentifier ACME_IDENTIFIER = new ASN1ObjectIdentifier("1.3.6.1.5.5.7.1.31");

    private static final AlpnChallenges SHARED = new AlpnChallenges();

    private final Map<String, SslContext> pending = new ConcurrentHashMap<>();
    private final AtomicLong answered = new AtomicLong();

    AlpnChallenges() {
    }

    /** The process's challenges, which every TLS listener that answers tls-alpn-01 reads. */
    public static AlpnChallenges shared() {
        return SHARED;
    }

    /**
     * Serves the RFC 8737 challenge certificate for {@code name} (self-signed on a fresh key, the name as its only
     * subjectAltName, the critical acmeIdentifier extension holding {@code acmeValidation}, the SHA-256 of the key
     * authorization) to clients offering {@code acme-tls/1} until {@link #remove(String)}.
     *
     * @throws IllegalStateException    when {@link #MAX_PENDING} names are pending already
     * @throws GeneralSecurityException when the certificate or its TLS context cannot be made
     */
    public void put(String name, byte[] acmeValidation) throws GeneralSecurityException {
        KeyPair key = SelfSignedCertificates.newEcKeyPair();
        X509Certificate certificate = challengeCertificate(name, acmeValidation, key);
        SslContext context;
        try {
            context = context(certificate, key.getPrivate());
        } catch (SSLException e) {
            throw new GeneralSecurityException("cannot make the tls-alpn-01 context: " + e.getMessage(), e);
        }
        String normalized = normalize(name);
        if (!pending.containsKey(normalized) && pending.size() >= MAX_PENDING) {
            throw new IllegalStateException("more than " + MAX_PENDING + " tls-alpn-01 challenges at once");
        }
        pending.put(normalized, context);
    }

    /** The challenge certificate of RFC 8737 section 3, signed with the JDK's provider. */
    static X509Certificate challengeCertificate(String name, byte[] acmeValidation, KeyPair key)
            throws GeneralSecurityException {
        if (acmeValidation.length != 32) {
            throw new GeneralSecurityException("the acmeIdentifier must be a SHA-256 hash (32 bytes)");
        }
        Instant now = Instant.now();
        X500Name subject = new X500Name("CN=acme-tls-alpn-01");
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(7))), subject, key.getPublic())
                    .addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(new GeneralName(GeneralName.dNSName, name)))
                    .addExtension(ACME_IDENTIFIER, true, new DEROctetString(acmeValidation));
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
        } catch (CertIOException | OperatorCreationException e) {
            throw new GeneralSecurityException("cannot make the tls-alpn-01 certificate: " + e.getMessage(), e);
        }
    }

    private static SslContext context(X509Certificate certificate, PrivateKey key) throws SSLException {
        return SslContextBuilder.forServer(key, certificate).sslProvider(SslProvider.JDK)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ClientHelloAlpn.ACME_TLS_1))
                .build();
    }

    /** Stops serving the challenge for {@code name}. */
    public void remove(String name) {
        pending.remove(normalize(name));
    }

    /** The challenge's context for the name the client asked for (SNI), if one is pending. */
    Optional<SslContext> context(String sniName) {
        return sniName == null ? Optional.empty() : Optional.ofNullable(pending.get(normalize(sniName)));
    }

    /** Challenge handshakes completed since the start (for the metric). */
    public long answered() {
        return answered.get();
    }

    void countAnswered() {
        answered.incrementAndGet();
    }

    private static String normalize(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }
}
