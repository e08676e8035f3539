package org.gatehouse.gateway;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Gauge;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.gatehouse.access.ConnectionLimits;
import org.gatehouse.backend.BackendPool;
import org.gatehouse.backend.BackendPools;
import org.gatehouse.dns.ClientNames;
import org.gatehouse.dns.ReverseDns;
import org.gatehouse.frontend.FrontendInitializer;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.frontend.Serving;
import org.gatehouse.login.PlaintextLogins;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.protection.Guards;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.Rule;
import org.gatehouse.session.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running gateway: one listening socket for every {@code listen} address of every enabled rule, all served by one
 * set of event loops.
 *
 * <p>{@link #start} binds everything or nothing. {@link #apply} moves a running gateway to new rules: sockets whose
 * binding is in both keep listening (no connection is refused during a reload), new ones are bound first (all or none),
 * then the snapshot is swapped, then sockets no longer wanted stop accepting. Connections in progress are never touched:
 * each keeps the rules it was accepted under. {@link #drain} stops accepting and waits for sessions to end.
 */
public final class Gateway implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    /** One bound listening socket and the rule it serves. */
    public record Listener(String rule, InetSocketAddress address, Channel channel) {
    }

    /** The bindings a reload added and removed, and the rules whose settings changed, for its log line. */
    public record Changes(List<String> added, List<String> removed, List<String> changedRules) {
    }

    private final Transport transport;
    private final GatewayMetrics metrics;
    private final EventLoopGroup workers;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final AtomicReference<Serving> serving;
    private final BackendPools pools;
    private final ConnectionLimits limits;
    private final Listeners listeners; // guarded by this
    private final ChannelGroup connections = new DefaultChannelGroup("gatehouse-connections",
            GlobalEventExecutor.INSTANCE);
    private final PlaintextLogins plaintextLogins;
    private final AccountGuard accounts;
    private final Set<String> certificateGauges = ConcurrentHashMap.newKeySet();
    private final Housekeeping housekeeping;
    private volatile boolean draining;
    private boolean closed; // guarded by this

    private Gateway(Transport transport, RulesSnapshot initial, GatewayMetrics metrics) {
        this.transport = transport;
        this.metrics = metrics;
        this.workers = transport.newGroup(Runtime.getRuntime().availableProcessors());
        this.limits = new ConnectionLimits(metrics.registry());
        // Backend host names are resolved asynchronously, never on an event loop's thread with a blocking call.
        this.resolver = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(transport.datagramChannel()));
        this.pools = new BackendPools(metrics.registry(), workers, transport.socketChannel(), resolver);
        this.accounts = Guards.start(initial.rules().stateDir(), initial.rules().protection().store(),
                metrics.registry());
        this.serving = new AtomicReference<>(new Serving(initial, Map.of(), ClientNames.NONE, limits, accounts));
        this.plaintextLogins = PlaintextLogins.persistent(initial.rules().stateDir());
        Path stateDir = initial.rules().stateDir();
        this.housekeeping = new Housekeeping(this::snapshot, plaintextLogins, () -> Guards.save(accounts, stateDir));
        this.listeners = new Listeners(transport, workers, metrics, (binding, rule) -> new FrontendInitializer(
                binding::ruleIn, serving::get, metrics, transport.socketChannel(), resolver, plaintextLogins,
                connections));
    }

    /** Binds every listener of every enabled rule; if one cannot be bound, closes the others and throws. */
    public static Gateway start(RulesSnapshot rules, GatewayMetrics metrics, Transport transport)
            throws GatewayException {
        requireNonNull(rules, "rules");
        requireNonNull(metrics, "metrics");
        try {
            PlaintextLogins.probeWritable(rules.rules().stateDir());
        } catch (IOException e) {
            throw new GatewayException("stateDir " + rules.rules().stateDir()
                    + " cannot be written (" + e + "): the plaintext-login report would be lost", e);
        }
        Gateway gateway = new Gateway(requireNonNull(transport, "transport"), rules, metrics);
        log.info("starting transport={} tls-engine=\"{}\" rules={}", transport.name(),
                rules.tls().engine().description(),
                rules.rules().source());
        try {
            gateway.apply(rules);
        } catch (GatewayException e) {
            gateway.close();
            throw e;
        }
        for (Rule rule : rules.rules().rules()) {
            if (!rule.enabled()) {
                log.info("not listening rule={} (enabled: false)", rule.name());
            }
        }
        return gateway;
    }

    /**
     * Moves the gateway to {@code next}: binds what is new, swaps the snapshot, closes what is gone. If a new address
     * cannot be bound, nothing changes and the exception says which.
     *
     * <p>The gateway owns {@code next} from here on: it releases the snapshot it replaces (connections accepted under
     * it hold their own references), or {@code next} itself if it is refused.
     */
    public synchronized Changes apply(RulesSnapshot next) throws GatewayException {
        requireNonNull(next, "next");
        RulesSnapshot previous = serving.get().snapshot();
        Changes changes;
        try {
            changes = swap(next);
        } catch (GatewayException | RuntimeException e) {
            if (next != previous) {
                next.tls().release();
            }
            throw e;
        }
        if (next != previous) {
            previous.tls().release();
        }
        return changes;
    }

    private Changes swap(RulesSnapshot next) throws GatewayException {
        if (draining) {
            throw new GatewayException("the gateway is shutting down", null);
        }
        checkTransport(next);
        Serving current = serving.get();
        RulesSnapshot previous = current.snapshot();
        Map<Listeners.Binding, Rule> wanted = Listeners.wanted(next.rules().enabledRules());
        Map<Listeners.Binding, Listener> added = listeners.bindMissing(wanted);
        ClientNames oldNames = current.names();
        ClientNames newNames = clientNamesFor(next.rules(), oldNames);

        serving.set(new Serving(next, pools.apply(next.rules()), newNames, limits, accounts));
        next.tls().expiries().keySet().forEach(this::certificateGauge);
        listeners.startAccepting(added, wanted);
        List<String> removed = listeners.closeUnwanted(wanted);
        if (oldNames != newNames && oldNames instanceof ReverseDns old) {
            // Lookups in flight finish first; connections accepted from now on ask the new resolver.
            workers.schedule(old::close, previous.rules().dns().timeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        }
        warnOfRestartOnlyChanges(previous, next);
        return new Changes(added.values().stream().map(Listeners::describe).toList(), removed,
                changedRules(previous.rules(), next.rules()));
    }

    /** A transparent rule needs the native transport: refused before anything changes. */
    private void checkTransport(RulesSnapshot next) throws GatewayException {
        for (Rule rule : next.rules().enabledRules()) {
            if (rule.backend().transparent() && !transport.supportsTransparent()) {
                throw new GatewayException(
                        rule.position() + ": rule " + rule.name() + ": transparent: true needs Linux's "
                                + "native transport, and this process runs on " + transport.name(),
                        null);
            }
        }
    }

    /** What a reload cannot move (the admin endpoint, the state folder) stays until a restart: said so. */
    private static void warnOfRestartOnlyChanges(RulesSnapshot previous, RulesSnapshot next) {
        if (!previous.rules().service().admin().equals(next.rules().service().admin())) {
            log.warn("admin changed to {}; the admin endpoint stays where it is until a restart",
                    next.rules().service().admin().map(HostPort::toString).orElse("off"));
        }
        if (!previous.rules().service().readOnlyAdmin().equals(next.rules().service().readOnlyAdmin())) {
            log.warn(
                    "admin.readOnlyListen changed to {}; the read-only admin listener stays where it is until a restart",
                    next.rules().service().readOnlyAdmin().map(HostPort::toString).orElse("off"));
        }
        if (previous != next && !previous.rules().stateDir().equals(next.rules().stateDir())) {
            log.warn("stateDir changed to {}; the plaintext-login report stays in {} until a restart",
                    next.rules().stateDir(), previous.rules().stateDir());
        }
        if (!previous.rules().protection().store().equals(next.rules().protection().store())) {
            log.warn("protection.store changed; account protection keeps its store until a restart");
        }
    }

    /**
     * The expiry time of a certificate as a gauge, read from the current snapshot so that a reloaded certificate shows
     * its new date; NaN once no rule uses it. Registered once per name: Micrometer would warn at each reload.
     */
    private void certificateGauge(String name) {
        if (!certificateGauges.add(name)) {
            return;
        }
        Gauge.builder("gatehouse.certificate.expiry.time", serving, s -> {
            Instant notAfter = s.get().snapshot().tls().expiries().get(name);
            return notAfter == null ? Double.NaN : notAfter.getEpochSecond();
        }).baseUnit("seconds").description("When the certificate expires (its notAfter), Unix time")
                .tag("certificate", name).register(metrics.registry());
    }

    /** The resolver for {@code rules}: none without domain rules, the running one while its settings hold. */
    private ClientNames clientNamesFor(PublishingRules rules, ClientNames current) {
        if (!rules.usesDomains()) {
            return ClientNames.NONE;
        }
        if (current instanceof ReverseDns dns && dns.settings().sameSettings(rules.dns())) {
            return current;
        }
        return ReverseDns.start(rules.dns(), workers.next(), transport.datagramChannel(), transport.socketChannel(),
                metrics.registry());
    }

    private static List<String> changedRules(PublishingRules before, PublishingRules after) {
        List<String> changed = new ArrayList<>();
        for (Rule r : after.rules()) {
            before.rule(r.name()).filter(old -> !old.sameSettings(r)).ifPresent(old -> changed.add(r.name()));
        }
        return changed;
    }

    /** The bound listeners, with their actual addresses (port 0 in the rules becomes the port chosen). */
    public synchronized List<Listener> listeners() {
        return listeners.all();
    }

    /** The first bound address of a rule, for tests and the demo. */
    public InetSocketAddress address(String rule) {
        return listeners().stream().filter(l -> l.rule().equals(rule)).map(Listener::address).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no listener for rule " + rule));
    }

    /** Account protection's counters and blocks. */
    public AccountGuard accounts() {
        return accounts;
    }

    /** Who logged in with a clear-text password: the audit report. */
    /** The backend pools now in use, by rule (mail and tcp rules alike). */
    public Map<String, BackendPool> pools() {
        return serving.get().pools();
    }

    public PlaintextLogins plaintextLogins() {
        return plaintextLogins;
    }

    public RulesSnapshot snapshot() {
        return serving.get().snapshot();
    }

    /** Why the gateway should not get new clients now, or empty when it should: every enabled listener bound. */
    public synchronized Optional<String> notReady() {
        if (draining) {
            return Optional.of("shutting down");
        }
        long wanted = snapshot().rules().enabledRules().stream().mapToLong(r -> r.listen().size()).sum();
        long open = listeners.open();
        return open == wanted ? Optional.empty() : Optional.of(open + " of " + wanted + " listeners bound");
    }

    /**
     * Stops accepting on every listener and waits up to {@code grace} for the sessions in progress to end.
     *
     * @return the number of sessions still open when the wait ended
     */
    public int drain(Duration grace) throws InterruptedException {
        synchronized (this) {
            draining = true;
            listeners.closeAll();
        }
        log.info("draining: stopped accepting, waiting up to {} s for {} open connection(s)", grace.toSeconds(),
                connections.size());
        long deadline = System.nanoTime() + grace.toNanos();
        while (!connections.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(Math.min(100, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
        }
        return connections.size();
    }

    /** Stops accepting, closes every connection and releases the event loops. */
    @Override
    public void close() {
        synchronized (this) {
            draining = true;
            listeners.closeAll();
        }
        int open = connections.size();
        connections.close().awaitUninterruptibly();
        synchronized (this) {
            if (!closed) {
                closed = true;
                serving.get().snapshot().tls().release(); // the connections' own references went with them
            }
        }
        pools.close();
        resolver.close();
        if (serving.get().names() instanceof ReverseDns dns) {
            dns.close();
        }
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        housekeeping.close();
        plaintextLogins.saveIfChanged();
        Guards.save(accounts, snapshot().rules().stateDir());
        accounts.close();
        log.info("stopped{}", open == 0 ? "" : " (closed " + open + " connection(s) still open)");
    }
}
