package org.gatehouse.tls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OCSP stapling for one certificate: asks the CA's responder (the URL in the certificate's Authority Information Access)
 * whether the certificate is good, and keeps the signed answer to hand to clients in the handshake, so that they need
 * not ask the CA themselves. Fetched when the certificate is loaded and again once half of the answer's validity has
 * passed; a failed fetch keeps the last good answer until it expires, and is logged.
 */
final class OcspStapler {

    private static final Logger log = LoggerFactory.getLogger(OcspStapler.class);
    private static final Duration FETCH_TIMEOUT = Duration.ofSeconds(10);
    /** The most of a responder's answer that is read: one certificate's status is a few KiB. */
    static final int MAX_RESPONSE_BYTES = 64 * 1024;
    /** When the responder gives no nextUpdate, how long an answer is kept before asking again. */
    private static final Duration DEFAULT_VALIDITY = Duration.ofHours(1);

    private final String certificate;
    private final X509Certificate leaf;
    private final X509Certificate issuer;
    private final URI responder;
    private volatile byte[] response;
    private volatile Instant refreshAfter = Instant.MIN;
    private volatile Instant expires = Instant.MIN;

    private OcspStapler(String certificate, X509Certificate leaf, X509Certificate issuer, URI responder) {
        this.certificate = certificate;
        this.leaf = leaf;
        this.issuer = issuer;
        this.responder = responder;
    }

    /** A stapler for {@code material}, or why there can be none (no responder URL, no issuer in the chain). */
    static StaplerOrReason forMaterial(TlsMaterial material) {
        if (material.chain().size() < 2) {
            return new StaplerOrReason(null,
                    "its file holds no issuer certificate after it, which an OCSP request names");
        }
        Optional<URI> url = responderUrl(material.leaf());
        if (url.isEmpty()) {
            return new StaplerOrReason(null, "it names no OCSP responder (no Authority Information Access OCSP URL)");
        }
        return new StaplerOrReason(
                new OcspStapler(material.name(), material.leaf(), material.chain().get(1), url.get()),
                null);
    }

    record StaplerOrReason(OcspStapler stapler, String reason) {
    }

    /** The answer to staple, if a good one is at hand. */
    byte[] response() {
        return Instant.now().isBefore(expires) ? response : null;
    }

    /** Asks the responder if the answer is missing or half-way through its validity; never throws. */
    void refreshIfDue() {
        if (Instant.now().isBefore(refreshAfter)) {
            return;
        }
        try {
            fetch();
        } catch (Exception e) {
            log.warn("OCSP fetch failed certificate={} responder={}: {}{}", certificate, responder, e.getMessage(),
                    response() == null
                            ? "; no response is stapled"
                            : "; the previous response is stapled until it expires");
            refreshAfter = Instant.now().plus(Duration.ofMinutes(5));
        }
    }

    private void fetch() throws Exception {
        CertificateID id = new CertificateID(
                new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
                new JcaX509CertificateHolder(issuer), leaf.getSerialNumber());
        byte[] request = new OCSPReqBuilder().addRequest(id).build().getEncoded();
        // Bounded in size and, body included, in time: a responder is a server on the network like any other.
        CompletableFuture<HttpResponse<byte[]>> fetching = HttpClient.newBuilder()
                .connectTimeout(FETCH_TIMEOUT).build().sendAsync(
                        HttpRequest.newBuilder(responder).timeout(FETCH_TIMEOUT)
                                .header("Content-Type", "application/ocsp-request")
                                .POST(HttpRequest.BodyPublishers.ofByteArray(request)).build(),
                        info -> new LimitedBody());
        HttpResponse<byte[]> http;
        try {
            http = fetching.get(2 * FETCH_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            fetching.cancel(true);
            throw new IOException("no complete answer within " + 2 * FETCH_TIMEOUT.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
        if (http.statusCode() != 200) {
            throw new IOException("HTTP " + http.statusCode());
        }
        OCSPResp resp = new OCSPResp(http.body());
        if (resp.getStatus() != OCSPResp.SUCCESSFUL) {
            throw new IOException("responder status " + resp.getStatus());
        }
        BasicOCSPResp basic = (BasicOCSPResp) resp.getResponseObject();
        SingleResp single = null;
        for (SingleResp r : basic.getResponses()) {
            if (r.getCertID().equals(id)) {
                single = r;
            }
        }
        if (single == null) {
            throw new IOException("the response is not about this certificate");
        }
        if (single.getCertStatus() != null) { // null means good
            throw new IOException(
                    "the CA says the certificate is not good (" + single.getCertStatus().getClass().getSimpleName()
                            + "): not stapled");
        }
        Instant now = Instant.now();
        Instant next = single.getNextUpdate() == null ? now.plus(DEFAULT_VALIDITY) : single.getNextUpdate().toInstant();
        response = http.body();
        expires = next;
        refreshAfter = now.plus(Duration.between(now, next).dividedBy(2));
        log.info("OCSP response stapled certificate={} good until {}", certificate, next);
    }

    /** A response body read up to {@link #MAX_RESPONSE_BYTES}; a longer one fails, and the rest is not read. */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final CompletableFuture<byte[]> body = new CompletableFuture<>();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        @Override
        public CompletionStage<byte[]> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer item : items) {
                if (body.isDone()) {
                    return;
                }
                if (bytes.size() + item.remaining() > MAX_RESPONSE_BYTES) {
                    subscription.cancel();
                    body.completeExceptionally(new IOException("the answer is larger than " + MAX_RESPONSE_BYTES / 1024
                            + " KiB, more than an OCSP response may be"));
                    return;
                }
                byte[] chunk = new byte[item.remaining()];
                item.get(chunk);
                bytes.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable error) {
            body.completeExceptionally(error);
        }

        @Override
        public void onComplete() {
            body.complete(bytes.toByteArray());
        }
    }

    private static Optional<URI> responderUrl(X509Certificate certificate) {
        byte[] extension = certificate.getExtensionValue(Extension.authorityInfoAccess.getId());
        if (extension == null) {
            return Optional.empty();
        }
        AuthorityInformationAccess aia;
        try {
            ASN1Encodable value = org.bouncycastle.asn1.ASN1Primitive.fromByteArray(
                    ASN1OctetString.getInstance(extension).getOctets());
            aia = AuthorityInformationAccess.getInstance(value);
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
        for (AccessDescription d : aia.getAccessDescriptions()) {
            if (d.getAccessMethod().equals(AccessDescription.id_ad_ocsp)
                    && d.getAccessLocation().getTagNo() == GeneralName.uniformResourceIdentifier) {
                return Optional.of(URI.create(d.getAccessLocation().getName().toString()));
            }
        }
        return Optional.empty();
    }
}
