package org.gatehouse.acme;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.gatehouse.rules.CertificateSource.Acme;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.session.Transport;
import org.gatehouse.tls.AcmeFiles;
import org.gatehouse.tls.AlpnChallenges;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps every {@code acme:} certificate issued and fresh, on one thread of its own (never an event loop): issues at
 * start when the state folder has none (the temporary self-signed stand-in serves meanwhile), renews at two-thirds of
 * the lifetime (plus a little jitter, so that many gateways do not ask at the same second), and after a failure
 * retries with jittered exponential backoff while the last good certificate keeps being served. A new certificate is
 * written to the state folder, then {@code reload} swaps it in the way a rules reload does: new handshakes get it,
 * connections in progress keep theirs.
 */
public final class AcmeRenewals implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.acme");

    /** The first retry after a failure; doubled each time, up to {@link #MAX_BACKOFF}. */
    static final Duration FIRST_BACKOFF = Duration.ofMinutes(1);
    static final Duration MAX_BACKOFF = Duration.ofHours(6);

    private final Path stateDir;
    private final Supplier<Boolean> reload;
    private final Clock clock;
    private final Duration firstBackoff;
    private final MeterRegistry registry;
    private final ChallengeResponses responses = new ChallengeResponses();
    private final AcmeIssuer issuer;
    private final List<Http01Responder> listeners = new ArrayList<>();
    private final Map<String, State> states = new ConcurrentHashMap<>();
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gatehouse-acme");
        t.setDaemon(true);
        return t;
    });

    /** Per certificate: its settings, failures in a row, whether the stand-in is served, the next run. */
    private static final class State {
        final Acme acme;
        final AtomicInteger failures = new AtomicInteger();
        final AtomicInteger temporary = new AtomicInteger();
        Counter issued;
        Counter failed;
        ScheduledFuture<?> next;

        State(Acme acme) {
            this.acme = acme;
        }
    }

    /**
     * @param reload       swaps the certificates in (the gateway's reload); true when it took
     * @param firstBackoff the first retry's delay after a failure (tests shorten it)
     */
    AcmeRenewals(Path stateDir, Supplier<Boolean> reload, Clock clock, Duration firstBackoff, MeterRegistry registry) {
        this.stateDir = requireNonNull(stateDir, "stateDir");
        this.reload = requireNonNull(reload, "reload");
        this.clock = requireNonNull(clock, "clock");
        this.firstBackoff = requireNonNull(firstBackoff, "firstBackoff");
        this.registry = requireNonNull(registry, "registry");
        this.issuer = new AcmeIssuer(stateDir, responses);
    }

    /**
     * Starts the http-01 listeners and the schedule for the {@code acme:} certificates that enabled rules use; none
     * when there are none.
     */
    public static Optional<AcmeRenewals> start(PublishingRules rules, Transport transport, Supplier<Boolean> reload,
            MeterRegistry registry) throws IOException {
        return start(rules, transport, reload, Clock.systemUTC(), FIRST_BACKOFF, registry);
    }

    static Optional<AcmeRenewals> start(PublishingRules rules, Transport transport, Supplier<Boolean> reload,
            Clock clock, Duration firstBackoff, MeterRegistry registry) throws IOException {
        List<Acme> certificates = rules.certificatesInUse().stream().filter(Acme.class::isInstance)
                .map(Acme.class::cast).toList();
        if (certificates.isEmpty()) {
            return Optional.empty();
        }
        AcmeRenewals renewals = new AcmeRenewals(rules.stateDir(), reload, clock, firstBackoff, registry);
        try {
            renewals.listen(certificates, transport);
        } catch (IOException e) {
            renewals.close();
            throw e;
        }
        certificates.forEach(renewals::schedule);
        return Optional.of(renewals);
    }

    private void listen(List<Acme> certificates, Transport transport) throws IOException {
        Map<String, Acme> byAddress = new LinkedHashMap<>();
        for (Acme acme : certificates) {
            acme.http01().ifPresent(hp -> byAddress.putIfAbsent(hp.toString(), acme));
        }
        for (Acme acme : byAddress.values()) {
            listeners.add(Http01Responder.start(acme.http01().get(), transport, responses, acme.httpRedirect()));
            log.info("answering ACME http-01 challenges on {}", acme.http01().get());
        }
        if (certificates.stream().anyMatch(Acme::tlsAlpn01)) {
            FunctionCounter.builder("gatehouse.acme.tls.alpn.answers", AlpnChallenges.shared(),
                    AlpnChallenges::answered).description("ACME tls-alpn-01 challenge handshakes answered")
                    .register(registry);
            log.info("answering ACME tls-alpn-01 challenges on every implicit-TLS listener");
        }
    }

    private void schedule(Acme acme) {
        State state = new State(acme);
        states.put(acme.name(), state);
        state.issued = Counter.builder("gatehouse.acme.orders").description("ACME certificate orders, by result")
                .tags("certificate", acme.name(), "result", "issued").register(registry);
        state.failed = Counter.builder("gatehouse.acme.orders").description("ACME certificate orders, by result")
                .tags("certificate", acme.name(), "result", "failed").register(registry);
        Gauge.builder("gatehouse.acme.failures.consecutive", state.failures, AtomicInteger::get)
                .description("ACME orders that failed since the last one that issued (0: the last one issued)")
                .tag("certificate", acme.name()).register(registry);
        Gauge.builder("gatehouse.acme.certificate.temporary", state.temporary, AtomicInteger::get)
                .description("1 while a temporary self-signed certificate is served for want of an issued one")
                .tag("certificate", acme.name()).register(registry);
        Optional<List<X509Certificate>> chain = AcmeFiles.issuedChain(stateDir, acme.name());
        state.temporary.set(chain.isEmpty() ? 1 : 0);
        if (chain.isEmpty()) {
            log.warn("no certificate from the ACME CA yet certificate={} names={}: a temporary self-signed one is "
                    + "served until {} issues it", acme.name(), acme.names(), acme.directory());
        }
        runAfter(state, chain.map(c -> delayUntilRenewal(c.get(0))).orElse(Duration.ZERO));
    }

    /** Two-thirds into the certificate's lifetime, plus up to 1% of the lifetime (at most an hour) of jitter. */
    Duration delayUntilRenewal(X509Certificate leaf) {
        Instant notBefore = leaf.getNotBefore().toInstant();
        Duration lifetime = Duration.between(notBefore, leaf.getNotAfter().toInstant());
        Instant renewAt = notBefore.plus(lifetime.multipliedBy(2).dividedBy(3));
        long jitterMillis = Math.min(lifetime.toMillis() / 100, Duration.ofHours(1).toMillis());
        Duration delay = Duration.between(clock.instant(), renewAt);
        if (delay.isNegative()) {
            return Duration.ZERO;
        }
        return delay.plusMillis(jitterMillis > 0 ? ThreadLocalRandom.current().nextLong(jitterMillis) : 0);
    }

    /** After {@code failures} failures in a row: the first backoff doubled each time, capped, times 0.5 to 1.5. */
    Duration backoff(int failures) {
        long base = firstBackoff.toMillis() << Math.min(failures - 1, 20);
        long capped = Math.min(base, MAX_BACKOFF.toMillis());
        return Duration.ofMillis(capped / 2 + ThreadLocalRandom.current().nextLong(Math.max(1, capped)));
    }

    private void runAfter(State state, Duration delay) {
        if (thread.isShutdown()) {
            return;
        }
        state.next = thread.schedule(() -> run(state), delay.toMillis(), TimeUnit.MILLISECONDS);
        log.info("next ACME order certificate={} in {} s", state.acme.name(), delay.toSeconds());
    }

    /** Orders now (the schedule's next run is replaced): for a check of the clock, or an operator's request. */
    public void renewNow(String certificate) {
        State state = states.get(certificate);
        if (state != null) {
            if (state.next != null) {
                state.next.cancel(false);
            }
            runAfter(state, Duration.ZERO);
        }
    }

    private void run(State state) {
        Acme acme = state.acme;
        try {
            List<X509Certificate> chain = issuer.issue(acme);
            X509Certificate leaf = chain.get(0);
            boolean swapped = reload.get();
            state.failures.set(0);
            state.temporary.set(0);
            state.issued.increment();
            log.info("ACME certificate issued certificate={} names={} serial={} notAfter={}{}", acme.name(),
                    acme.names(), leaf.getSerialNumber().toString(16), leaf.getNotAfter().toInstant(),
                    swapped ? "" : " (written; the reload that serves it failed, see the reload's log line)");
            runAfter(state, delayUntilRenewal(leaf));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            int failures = state.failures.incrementAndGet();
            state.failed.increment();
            Duration retry = backoff(failures);
            log.warn("ACME order failed certificate={} names={} failures_in_a_row={}: {}; the last good certificate "
                    + "stays in use, next try in {} s", acme.name(), acme.names(), failures, describe(e),
                    retry.toSeconds());
            runAfter(state, retry);
        }
    }

    /** The exception and its causes, one line: "AcmeNetworkException: Network error, caused by ConnectException". */
    private static String describe(Throwable e) {
        StringBuilder out = new StringBuilder();
        int depth = 0;
        for (Throwable t = e; t != null && depth < 5; t = t.getCause(), depth++) {
            out.append(depth == 0 ? "" : ", caused by ").append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                out.append(": ").append(t.getMessage().replaceAll("[\\r\\n]+", " "));
            }
        }
        return out.toString();
    }

    @Override
    public void close() {
        thread.shutdownNow();
        listeners.forEach(Http01Responder::close);
    }
}
