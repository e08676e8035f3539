package org.gatehouse.acme;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.gatehouse.rules.HostPort;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a renewal is due and how retries back off; what the http-01 listener answers, over a real socket. */
class AcmeScheduleAndResponderTest {

    @TempDir
    Path stateDir;

    private AcmeRenewals renewals(Instant now) {
        return new AcmeRenewals(stateDir, () -> true, Clock.fixed(now, ZoneOffset.UTC), Duration.ofMinutes(1),
                new SimpleMeterRegistry());
    }

    @Test
    void renewalIsDueTwoThirdsIntoTheLifetimeWithAtMostAnHourOfJitter() throws Exception {
        Instant notBefore = Instant.parse("2026-01-01T00:00:00Z");
        X509Certificate ninetyDays = TestCertificates.Ca.create("CA").sign(TestCertificates.ec(),
                List.of("mail.example.com"), notBefore, notBefore.plus(Duration.ofDays(90)));
        try (AcmeRenewals r = renewals(notBefore.plus(Duration.ofDays(10)))) {
            for (int i = 0; i < 20; i++) {
                Duration delay = r.delayUntilRenewal(ninetyDays);
                assertThat(delay).isBetween(Duration.ofDays(50), Duration.ofDays(50).plusHours(1));
            }
        }
        try (AcmeRenewals late = renewals(notBefore.plus(Duration.ofDays(61)))) {
            assertThat(late.delayUntilRenewal(ninetyDays)).isZero();
        }
    }

    @Test
    void retriesBackOffExponentiallyWithJitterUpToSixHours() {
        try (AcmeRenewals r = renewals(Instant.now())) {
            for (int i = 0; i < 20; i++) {
                assertThat(r.backoff(1)).isBetween(Duration.ofSeconds(30), Duration.ofSeconds(90));
                assertThat(r.backoff(3)).isBetween(Duration.ofMinutes(2), Duration.ofMinutes(6));
                assertThat(r.backoff(30)).isBetween(Duration.ofHours(3), Duration.ofHours(9));
            }
        }
    }

    @Test
    void theHttp01ListenerAnswersOnlyChallengesInProgress() throws Exception {
        ChallengeResponses responses = new ChallengeResponses();
        responses.putHttp01("tok-1", "tok-1.thumbprint");
        HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
        try (Http01Responder plain = Http01Responder.start(HostPort.parse("127.0.0.1:0", true), Transport.detect(),
                responses, Optional.empty());
                Http01Responder redirecting = Http01Responder.start(HostPort.parse("127.0.0.1:0", true),
                        Transport.detect(), responses, Optional.of("https://www.example.com/"))) {
            String base = "http://127.0.0.1:" + plain.address().getPort();
            HttpResponse<String> ok = client.send(HttpRequest.newBuilder(URI.create(base
                    + "/.well-known/acme-challenge/tok-1")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).isEqualTo("tok-1.thumbprint");
            assertThat(client.send(HttpRequest.newBuilder(URI.create(base + "/.well-known/acme-challenge/other"))
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
            assertThat(client.send(HttpRequest.newBuilder(URI.create(base + "/index.html")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
            responses.removeHttp01("tok-1");
            assertThat(client.send(HttpRequest.newBuilder(URI.create(base + "/.well-known/acme-challenge/tok-1"))
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
            HttpResponse<String> moved = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + redirecting.address().getPort() + "/webmail?x=1")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(moved.statusCode()).isEqualTo(301);
            assertThat(moved.headers().firstValue("location")).contains("https://www.example.com/webmail?x=1");
        }
    }
}
