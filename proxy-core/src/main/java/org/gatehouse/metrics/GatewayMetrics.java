package org.gatehouse.metrics;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.netty.util.internal.PlatformDependent;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway's meters. Tags are the rule name and a small fixed set of reasons: never a client address, so the number
 * of series stays bounded whatever the traffic.
 *
 * <p>Components record through Micrometer; {@link #prometheus()} is the one place that picks the registry behind it.
 */
public final class GatewayMetrics {

    private static final Duration[] HANDSHAKE_BUCKETS = millis(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
            10000);
    private static final Duration[] CONNECT_BUCKETS = millis(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000);
    private static final Duration[] SESSION_BUCKETS = {Duration.ofMillis(100), Duration.ofSeconds(1),
            Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5),
            Duration.ofMinutes(15), Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(4)};

    private final MeterRegistry registry;
    private final PrometheusMeterRegistry prometheus;
    private final Map<String, RuleMeters> byRule = new ConcurrentHashMap<>();
    private final RecentRefusals refusals = new RecentRefusals();

    public GatewayMetrics(MeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
        this.prometheus = registry instanceof PrometheusMeterRegistry p ? p : null;
        String version = Optional.ofNullable(GatewayMetrics.class.getPackage().getImplementationVersion())
                .orElse("dev");
        Gauge.builder("gatehouse.build.info", () -> 1).description("Always 1; the version is in the label")
                .tags("version", version, "java", System.getProperty("java.version", "unknown")).register(registry);
    }

    /** Meters exposed in the Prometheus formats, with the JVM's and the process's own meters beside the gateway's. */
    public static GatewayMetrics prometheus() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // Two of Micrometer's processor meters break Prometheus naming rules (promtool lints them): CPU time in
        // nanoseconds instead of seconds, and a gauge ending in _count. Renamed, or recounted in seconds.
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
            }
        }).meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")));
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9).baseUnit("seconds")
                    .description("CPU time used by the process").register(registry);
        }
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        // Netty's direct buffers are counted by Netty, not by the JVM's buffer pools (jvm_buffer_memory_used_bytes).
        Gauge.builder("gatehouse.direct.memory.used", () -> nonNegative(PlatformDependent.usedDirectMemory()))
                .baseUnit("bytes").description("Direct memory Netty's buffers hold (relay, TLS, admin)")
                .register(registry);
        Gauge.builder("gatehouse.direct.memory.max", () -> nonNegative(PlatformDependent.maxDirectMemory()))
                .baseUnit("bytes")
                .description("The most direct memory Netty's buffers may hold (-XX:MaxDirectMemorySize)")
                .register(registry);
        return new GatewayMetrics(registry);
    }

    /** NaN where Netty does not count (-1). */
    private static double nonNegative(long value) {
        return value < 0 ? Double.NaN : value;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /**
     * The meters as text in the format the {@code Accept} header asks for (OpenMetrics or Prometheus text 0.0.4), with
     * its content type; empty when the registry is not a Prometheus one.
     */
    public Optional<Scrape> scrape(String accept) {
        if (prometheus == null) {
            return Optional.empty();
        }
        String contentType = io.prometheus.client.exporter.common.TextFormat
                .chooseContentType(accept == null ? "" : accept);
        return Optional.of(new Scrape(contentType, prometheus.scrape(contentType)));
    }

    /** One scrape's body and content type. */
    public record Scrape(String contentType, String body) {
    }

    private static Duration[] millis(long... values) {
        Duration[] out = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Duration.ofMillis(values[i]);
        }
        return out;
    }

    /** The meters of one rule, created on first use. */
    /** The last connections refused or ended early, for the status page. */
    public RecentRefusals recentRefusals() {
        return refusals;
    }

    public RuleMeters rule(String rule) {
        return byRule.computeIfAbsent(rule, r -> new RuleMeters(registry, r, refusals));
    }

    /** A counter per value of one label beside {@code rule}, registered on first use; the values are fixed words. */
    private static final class LabelledCounter {
        private final MeterRegistry registry;
        private final String name;
        private final String description;
        private final String rule;
        private final String label;
        private final Map<String, Counter> byValue = new ConcurrentHashMap<>();

        LabelledCounter(MeterRegistry registry, String name, String description, String rule, String label) {
            this.registry = registry;
            this.name = name;
            this.description = description;
            this.rule = rule;
            this.label = label;
        }

        void increment(String value) {
            byValue.computeIfAbsent(value, v -> Counter.builder(name).description(description)
                    .tags("rule", rule, label, v).register(registry)).increment();
        }
    }

    /** Meters for one rule; counters are thread-safe, the active gauge reads an atomic. */
    public static final class RuleMeters {
        private final MeterRegistry registry;
        private final String rule;
        private final Counter accepted;
        private final Counter bytesFromClient;
        private final Counter bytesToClient;
        private final AtomicLong active = new AtomicLong();
        private final LabelledCounter rejected;
        private final LabelledCounter backendFailures;
        private final LabelledCounter plaintextLogins;
        private final Map<String, Counter> withoutTls = new ConcurrentHashMap<>();
        private final LabelledCounter violations;
        private final LabelledCounter refusedCommands;
        private final LabelledCounter bareLineEndings;
        private final Counter starttls;
        private final LabelledCounter handshakes;
        private final LabelledCounter handshakeFailures;
        private final Map<String, Timer> backendConnect = new ConcurrentHashMap<>();
        private final Timer handshakeDuration;
        private final Timer sessionDuration;
        private final Counter idleTimeouts;
        private final Counter preLoginIdleTimeouts;
        private final LabelledCounter abandoned;
        private final LabelledCounter exhausted;
        private final LabelledCounter greetingTimeouts;
        private final LabelledCounter clientIdentity;
        private final RecentRefusals refusals;

        RuleMeters(MeterRegistry registry, String rule, RecentRefusals refusals) {
            this.registry = registry;
            this.rule = rule;
            this.refusals = refusals;
            this.handshakes = new LabelledCounter(registry, "gatehouse.tls.handshakes",
                    "Completed TLS handshakes, by protocol version", rule, "version");
            this.handshakeFailures = new LabelledCounter(registry, "gatehouse.tls.handshake.failures",
                    "Failed TLS handshakes, by reason", rule, "reason");
            this.abandoned = new LabelledCounter(registry, "gatehouse.connections.abandoned",
                    "Clients that hung up while the gateway waited for them, by what it waited for", rule, "stage");
            this.exhausted = new LabelledCounter(registry, "gatehouse.resource.exhausted",
                    "Connections refused or ended because the process ran out of a resource", rule, "resource");
            this.greetingTimeouts = new LabelledCounter(registry, "gatehouse.backend.greeting.timeouts",
                    "Backend connections whose server did not greet within the greeting timeout", rule, "backend");
            this.clientIdentity = new LabelledCounter(registry, "gatehouse.backend.client.identity",
                    "Backend connections that were told the client's address in the protocol (XCLIENT, IMAP ID), by "
                            + "result",
                    rule, "result");
            this.rejected = new LabelledCounter(registry, "gatehouse.connections.rejected",
                    "Connections refused or ended before relaying, by reason", rule, "reason");
            this.backendFailures = new LabelledCounter(registry, "gatehouse.backend.connect.failures",
                    "Failed connection attempts to a backend server", rule, "backend");
            this.plaintextLogins = new LabelledCounter(registry, "gatehouse.logins.plaintext",
                    "Logins without TLS that send the password, refused or audited by the login policy", rule,
                    "action");
            this.violations = new LabelledCounter(registry, "gatehouse.protocol.violations",
                    "Connections closed because the client broke the mail protocol, by kind", rule, "kind");
            this.refusedCommands = new LabelledCounter(registry, "gatehouse.commands.refused",
                    "Client commands the gateway answered itself with an error instead of passing them on", rule,
                    "reason");
            this.bareLineEndings = new LabelledCounter(registry, "gatehouse.smtp.bare.line.endings",
                    "SMTP messages with a bare CR or LF, refused or rewritten to CRLF", rule, "action");
            this.accepted = Counter.builder("gatehouse.connections.accepted")
                    .description("Connections admitted by the access gate").tag("rule", rule).register(registry);
            this.bytesFromClient = Counter.builder("gatehouse.relay.bytes").baseUnit("bytes")
                    .description("Plaintext bytes relayed").tags("rule", rule, "direction", "client-to-backend")
                    .register(registry);
            this.bytesToClient = Counter.builder("gatehouse.relay.bytes").baseUnit("bytes")
                    .description("Plaintext bytes relayed").tags("rule", rule, "direction", "backend-to-client")
                    .register(registry);
            this.starttls = Counter.builder("gatehouse.starttls.upgrades")
                    .description("Connections upgraded to TLS by STLS or STARTTLS").tag("rule", rule)
                    .register(registry);
            Gauge.builder("gatehouse.connections.active", active, AtomicLong::get)
                    .description("Client connections open now").tag("rule", rule).register(registry);
            this.handshakeDuration = Timer.builder("gatehouse.tls.handshake.duration")
                    .description("TLS handshakes (implicit and STARTTLS), successful or not, by time taken")
                    .tag("rule", rule).serviceLevelObjectives(HANDSHAKE_BUCKETS).register(registry);
            this.idleTimeouts = Counter.builder("gatehouse.connections.idle.closed")
                    .description("Connections closed after passing no byte either way for the idle timeout")
                    .tag("rule", rule).register(registry);
            this.preLoginIdleTimeouts = Counter.builder("gatehouse.connections.pre.login.idle.closed")
                    .description("Connections closed for passing nothing to or from the backend before login for the "
                            + "pre-login idle timeout")
                    .tag("rule", rule).register(registry);
            this.sessionDuration = Timer.builder("gatehouse.session.duration")
                    .description("Client connections, from accept to close, by time open")
                    .tag("rule", rule).serviceLevelObjectives(SESSION_BUCKETS).register(registry);
        }

        /** A completed TLS handshake; {@code version} is the protocol (TLSv1.3, TLSv1.2). */
        public void tlsHandshake(String version, long nanos) {
            handshakes.increment(version);
            handshakeDuration.record(nanos, TimeUnit.NANOSECONDS);
        }

        /** A failed TLS handshake; {@code reason} is one of a few fixed words (timeout, not-tls, no-shared-cipher, …). */
        public void tlsHandshakeFailed(String reason, long nanos) {
            handshakeFailures.increment(reason);
            handshakeDuration.record(nanos, TimeUnit.NANOSECONDS);
        }

        public void backendConnected(String backend, long nanos) {
            backendConnect.computeIfAbsent(backend, b -> Timer.builder("gatehouse.backend.connect.duration")
                    .description("Successful connections to a backend server, by time taken")
                    .tags("rule", rule, "backend", b).serviceLevelObjectives(CONNECT_BUCKETS).register(registry))
                    .record(nanos, TimeUnit.NANOSECONDS);
        }

        public void idleTimeout() {
            idleTimeouts.increment();
        }

        public void preLoginIdleTimeout() {
            preLoginIdleTimeouts.increment();
        }

        /**
         * A client that hung up (FIN or reset) while the gateway waited for it; {@code stage} is what it waited for:
         * {@code proxy-header}, {@code access} (its name in DNS), {@code tls-handshake} or, on a mail rule,
         * {@code backend-connect}.
         */
        public void abandoned(String stage) {
            abandoned.increment(stage);
        }

        /** A connection the gateway could not serve for want of {@code resource}: file-descriptors or memory. */
        public void resourceExhausted(String resource) {
            exhausted.increment(resource);
        }

        /** A backend server that accepted a connection and did not greet within the pool's greeting timeout. */
        public void greetingTimeout(String backend) {
            greetingTimeouts.increment(backend);
        }

        /**
         * How telling a backend the client's address in its protocol ended: sent, not-offered, refused, skipped or
         * broken.
         */
        public void clientIdentity(String result) {
            clientIdentity.increment(result);
        }

        public String rule() {
            return rule;
        }

        /** A connection refused or ended early ({@code outcome} other than closed), for the status page's list. */
        public void refusedRecently(String client, String outcome, String reason) {
            refusals.add(new RecentRefusals.Refusal(Instant.now(), rule, client, outcome, reason));
        }

        public void sessionEnded(long nanos) {
            sessionDuration.record(nanos, TimeUnit.NANOSECONDS);
        }

        public void accepted() {
            accepted.increment();
        }

        /** A refusal; {@code reason} is one of a few fixed words (docs/metrics.md lists them), never client data. */
        public void rejected(String reason) {
            rejected.increment(reason);
        }

        public void backendConnectFailed(String backend) {
            backendFailures.increment(backend);
        }

        /** A login that would send a password in clear text; {@code action} is refused or audited. */
        public void plaintextLogin(String action) {
            plaintextLogins.increment(action);
        }

        /**
         * A session without TLS that the report records: {@code what} is {@code left} (looked at the capabilities and
         * left without STARTTLS) or {@code transaction} (an SMTP mail transaction, or under secureChannel: required
         * any login), {@code action} audited or refused.
         */
        public void withoutTls(String what, String action) {
            withoutTls.computeIfAbsent(what + ' ' + action, k -> Counter.builder("gatehouse.sessions.without.tls")
                    .description("Sessions without TLS recorded in the report: clients that left, transactions")
                    .tags("rule", rule, "what", what, "action", action).register(registry)).increment();
        }

        public void starttls() {
            starttls.increment();
        }

        /** A client closed for breaking its protocol; {@code kind} is one of a few fixed words. */
        public void protocolViolation(String kind) {
            violations.increment(kind);
        }

        /** A command refused by the gateway with the protocol's error, the session going on; a fixed word. */
        public void commandRefused(String reason) {
            refusedCommands.increment(reason);
        }

        /** An SMTP message with bare CR or LF line endings; {@code action} is rejected or normalized. */
        public void bareLineEndings(String action) {
            bareLineEndings.increment(action);
        }

        public void opened() {
            active.incrementAndGet();
        }

        public void closed() {
            active.decrementAndGet();
        }

        public void relayed(long fromClient, long toClient) {
            if (fromClient > 0) {
                bytesFromClient.increment(fromClient);
            }
            if (toClient > 0) {
                bytesToClient.increment(toClient);
            }
        }
    }
}
