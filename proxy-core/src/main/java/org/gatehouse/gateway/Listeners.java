package org.gatehouse.gateway;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Rule;
import org.gatehouse.session.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's listening sockets, reconciled with each snapshot by binding: a binding in both keeps its socket (no
 * connection is refused during a reload), new ones are bound first, all or none, and start accepting only once the
 * snapshot that knows their rule is in place; sockets no longer wanted stop accepting, their connections running on.
 * Not thread-safe: the gateway calls it under its lock.
 */
final class Listeners {

    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    /**
     * What a listening socket is for: its address, and for a free-port address (port 0, which every rule may use) the
     * rule too, since two such addresses are different sockets.
     */
    record Binding(HostPort address, String ephemeralRule) {
        static Binding of(Rule rule, HostPort address) {
            return new Binding(address, address.port() == 0 ? rule.name() : "");
        }

        /** The rule this socket serves in {@code snapshot}; none once a reload removed it. */
        Optional<Rule> ruleIn(RulesSnapshot snapshot) {
            for (Rule r : snapshot.rules().rules()) { // once per connection: no stream of the enabled ones
                if (r.enabled() && r.listen().contains(address)
                        && (ephemeralRule.isEmpty() || ephemeralRule.equals(r.name()))) {
                    return Optional.of(r);
                }
            }
            return Optional.empty();
        }
    }

    private final Transport transport;
    private final EventLoopGroup workers;
    private final GatewayMetrics metrics;
    /** The pipeline of the connections a binding accepts. */
    private final BiFunction<Binding, Rule, ChannelInitializer<SocketChannel>> pipeline;
    private final Map<Binding, Gateway.Listener> bound = new LinkedHashMap<>();

    Listeners(Transport transport, EventLoopGroup workers, GatewayMetrics metrics,
            BiFunction<Binding, Rule, ChannelInitializer<SocketChannel>> pipeline) {
        this.transport = transport;
        this.workers = workers;
        this.metrics = metrics;
        this.pipeline = pipeline;
    }

    /** The bindings {@code rules} wants, each with its rule. */
    static Map<Binding, Rule> wanted(List<Rule> enabledRules) {
        Map<Binding, Rule> wanted = new LinkedHashMap<>();
        for (Rule rule : enabledRules) {
            for (HostPort address : rule.listen()) {
                wanted.put(Binding.of(rule, address), rule);
            }
        }
        return wanted;
    }

    /** Binds, not yet accepting, every wanted binding not bound yet; all or none. */
    Map<Binding, Gateway.Listener> bindMissing(Map<Binding, Rule> wanted) throws GatewayException {
        Map<Binding, Gateway.Listener> added = new LinkedHashMap<>();
        try {
            for (Map.Entry<Binding, Rule> e : wanted.entrySet()) {
                if (!bound.containsKey(e.getKey())) {
                    added.put(e.getKey(), bind(e.getKey(), e.getValue()));
                }
            }
        } catch (GatewayException e) {
            added.values().forEach(l -> l.channel().close().awaitUninterruptibly());
            throw e;
        }
        return added;
    }

    /** The new sockets start accepting, now that the snapshot knows their rules. */
    void startAccepting(Map<Binding, Gateway.Listener> added, Map<Binding, Rule> wanted) {
        bound.putAll(added);
        for (Map.Entry<Binding, Gateway.Listener> e : added.entrySet()) {
            Gateway.Listener l = e.getValue();
            Rule rule = wanted.get(e.getKey());
            l.channel().config().setAutoRead(true);
            log.info("listening rule={} address={} protocol={} tls={} backend={}", l.rule(), hostPort(l.address()),
                    rule.protocol().configName(), rule.tls().mode().configName(), rule.backends());
        }
    }

    /** Closes the sockets no longer wanted (their connections go on) and names the kept ones by their new rule. */
    List<String> closeUnwanted(Map<Binding, Rule> wanted) {
        List<String> removed = new ArrayList<>();
        for (var it = bound.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            Gateway.Listener l = e.getValue();
            if (!wanted.containsKey(e.getKey())) {
                l.channel().close().awaitUninterruptibly();
                removed.add(describe(l));
                log.info("stopped listening rule={} address={} (connections in progress continue)", l.rule(),
                        hostPort(l.address()));
                it.remove();
            } else {
                e.setValue(new Gateway.Listener(wanted.get(e.getKey()).name(), l.address(), l.channel()));
            }
        }
        return removed;
    }

    List<Gateway.Listener> all() {
        return List.copyOf(bound.values());
    }

    /** How many sockets accept now. */
    long open() {
        return bound.values().stream().filter(l -> l.channel().isActive()).count();
    }

    /** Stops accepting on every socket. */
    void closeAll() {
        for (Gateway.Listener l : bound.values()) {
            l.channel().close().awaitUninterruptibly();
        }
    }

    static String describe(Gateway.Listener l) {
        return l.rule() + "@" + hostPort(l.address());
    }

    private Gateway.Listener bind(Binding binding, Rule rule) throws GatewayException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                // Accepted on a worker loop, as relaying is: no thread of its own to wake for every connection.
                .group(workers, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                // Not accepting until the rules that know this socket are in place (see startAccepting).
                .option(ChannelOption.AUTO_READ, false)
                // Nothing is read from a client until the access gate has decided.
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(new AcceptErrors(metrics.rule(rule.name())))
                .childHandler(pipeline.apply(binding, rule));
        HostPort address = binding.address();
        ChannelFuture bound = bootstrap.bind(address.toSocketAddress()).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            Throwable cause = bound.cause();
            throw new GatewayException(rule.position() + ": rule " + rule.name() + ": cannot listen on " + address
                    + " ("
                    + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage())
                    + (address.port() < 1024 ? "; ports below 1024 need root or CAP_NET_BIND_SERVICE" : "") + ")",
                    cause);
        }
        return new Gateway.Listener(rule.name(), (InetSocketAddress) bound.channel().localAddress(), bound.channel());
    }

    private static HostPort hostPort(InetSocketAddress a) {
        return new HostPort(NetUtil.toAddressString(a.getAddress()), a.getPort());
    }
}
