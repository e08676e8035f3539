package org.gatehouse.gateway;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.gatehouse.dns.ClientNames;
import org.gatehouse.dns.ReverseDns;
import org.gatehouse.listener.FrontendInitializer;
import org.gatehouse.login.PlaintextLogins;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Rule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running gateway: one listening socket for every {@code listen} address of every enabled rule, all served by one
 * set of event loops. {@link #start} binds everything or nothing.
 */
public final class Gateway implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    /** One bound listening socket and the rule it serves. */
    public record Listener(String rule, InetSocketAddress address, Channel channel) {
    }

    private final Transport transport;
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final AtomicReference<RulesSnapshot> snapshot;
    private final List<Listener> listeners = new ArrayList<>();
    private final PlaintextLogins plaintextLogins;
    private final ScheduledExecutorService reportSaver;
    private final ClientNames clientNames;

    /** How often the plaintext-login report is written to the state directory when it changed. */
    private static final long REPORT_SAVE_SECONDS = 10;

    private Gateway(Transport transport, RulesSnapshot initial, GatewayMetrics metrics) {
        this.transport = transport;
        this.acceptors = transport.newGroup(1);
        this.workers = transport.newGroup(Runtime.getRuntime().availableProcessors());
        // Backend host names are resolved asynchronously, never on an event loop's thread with a blocking call.
        this.resolver = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(transport.datagramChannel()));
        this.snapshot = new AtomicReference<>(initial);
        this.plaintextLogins = PlaintextLogins.persistent(initial.rules().stateDir());
        this.reportSaver = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "gatehouse-report-saver");
            t.setDaemon(true);
            return t;
        });
        reportSaver.scheduleWithFixedDelay(plaintextLogins::saveIfChanged, REPORT_SAVE_SECONDS, REPORT_SAVE_SECONDS,
                TimeUnit.SECONDS);
        // No resolver at all, and so no DNS traffic, unless a rule's access lists name a domain.
        this.clientNames = initial.rules().usesDomains()
                ? ReverseDns.start(initial.rules().dns(), workers.next(), transport.datagramChannel(),
                        transport.socketChannel(), metrics.registry())
                : ClientNames.NONE;
    }

    /** Binds every listener of every enabled rule; if one cannot be bound, closes the others and throws. */
    public static Gateway start(RulesSnapshot rules, GatewayMetrics metrics, Transport transport) throws GatewayException {
        requireNonNull(rules, "rules");
        requireNonNull(metrics, "metrics");
        Gateway gateway = new Gateway(requireNonNull(transport, "transport"), rules, metrics);
        log.info("starting transport={} tls-engine=\"{}\" rules={}", transport.name(), rules.tls().engine().description(),
                rules.rules().source());
        try {
            for (Rule rule : rules.rules().enabledRules()) {
                for (HostPort address : rule.listen()) {
                    gateway.bind(rule, address, metrics);
                }
            }
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

    private void bind(Rule rule, HostPort address, GatewayMetrics metrics) throws GatewayException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptors, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                // Nothing is read from a client until the access gate has decided.
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new FrontendInitializer(rule.name(), snapshot::get, metrics, transport.socketChannel(), resolver,
                        plaintextLogins, clientNames));
        ChannelFuture bound = bootstrap.bind(address.toSocketAddress()).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            Throwable cause = bound.cause();
            throw new GatewayException(rule.position() + ": rule " + rule.name() + ": cannot listen on " + address + " ("
                    + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage())
                    + (address.port() < 1024 ? "; ports below 1024 need root or CAP_NET_BIND_SERVICE" : "") + ")", cause);
        }
        InetSocketAddress local = (InetSocketAddress) bound.channel().localAddress();
        listeners.add(new Listener(rule.name(), local, bound.channel()));
        log.info("listening rule={} address={} protocol={} tls={} backend={}", rule.name(),
                new HostPort(local.getAddress().getHostAddress(), local.getPort()), rule.protocol().configName(),
                rule.tls().mode().configName(), rule.backends());
    }

    /** The bound listeners, with their actual addresses (port 0 in the rules becomes the port chosen). */
    public List<Listener> listeners() {
        return List.copyOf(listeners);
    }

    /** The first bound address of a rule, for tests and the demo. */
    public InetSocketAddress address(String rule) {
        return listeners.stream().filter(l -> l.rule().equals(rule)).map(Listener::address).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no listener for rule " + rule));
    }

    /** Who logged in with a clear-text password: the audit report. */
    public PlaintextLogins plaintextLogins() {
        return plaintextLogins;
    }

    public RulesSnapshot snapshot() {
        return snapshot.get();
    }

    /** Stops accepting, closes every connection and releases the event loops. */
    @Override
    public void close() {
        for (Listener l : listeners) {
            l.channel().close().awaitUninterruptibly();
        }
        resolver.close();
        if (clientNames instanceof ReverseDns dns) {
            dns.close();
        }
        var a = acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        var w = workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        a.awaitUninterruptibly();
        w.awaitUninterruptibly();
        reportSaver.shutdownNow();
        plaintextLogins.saveIfChanged();
        log.info("stopped");
    }
}
