package org.gatehouse.backend;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.Rule;

/**
 * Every rule's {@link BackendPool}, rebuilt on each reload from the same {@link ServerState}s (so a server's health and
 * counts survive a reload that keeps it), with the health checkers of the rules that ask for them.
 *
 * <p>Meters, by rule and backend: {@code gatehouse.backend.up} (1 in use, 0 taken out by health checks, NaN once no
 * rule names it) and {@code gatehouse.backend.connections.active}.
 */
public final class BackendPools implements AutoCloseable {

    private final MeterRegistry registry;
    private final EventLoopGroup loops;
    private final Class<? extends SocketChannel> channelClass;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final Map<String, Map<HostPort, ServerState>> states = new HashMap<>(); // guarded by this
    private final List<HealthChecker> checkers = new ArrayList<>(); // guarded by this

    public BackendPools(MeterRegistry registry, EventLoopGroup loops, Class<? extends SocketChannel> channelClass,
            AddressResolverGroup<InetSocketAddress> resolver) {
        this.registry = registry;
        this.loops = loops;
        this.channelClass = channelClass;
        this.resolver = resolver;
    }

    /** The pools of {@code rules}' enabled rules, by rule name; health checks restart for the new settings. */
    public synchronized Map<String, BackendPool> apply(PublishingRules rules) {
        checkers.forEach(HealthChecker::stop);
        checkers.clear();
        states.values().forEach(byServer -> byServer.values().forEach(s -> s.retired(true)));
        Map<String, BackendPool> pools = new LinkedHashMap<>();
        for (Rule rule : rules.enabledRules()) {
            Map<HostPort, ServerState> byServer = states.computeIfAbsent(rule.name(), r -> new HashMap<>());
            List<ServerState> servers = new ArrayList<>();
            for (HostPort address : rule.backends()) {
                ServerState state = byServer.computeIfAbsent(address, a -> newState(rule.name(), a));
                state.retired(false);
                if (rule.backend().healthCheck().isEmpty()) {
                    state.up(true); // without checks every server is tried
                }
                servers.add(state);
            }
            BackendPool pool = new BackendPool(rule.name(), rule.backend(), servers);
            pools.put(rule.name(), pool);
            if (rule.backend().healthCheck().isPresent()) {
                HealthChecker checker = new HealthChecker(pool, rule.protocol(), loops.next(), channelClass, resolver);
                pool.checker(checker);
                checker.start();
                checkers.add(checker);
            }
        }
        return Map.copyOf(pools);
    }

    private ServerState newState(String rule, HostPort address) {
        ServerState state = new ServerState(address);
        Gauge.builder("gatehouse.backend.up", state, s -> s.retired() ? Double.NaN : s.up() ? 1 : 0)
                .description("Whether health checks keep the backend server in use (1) or took it out (0)")
                .tags("rule", rule, "backend", address.toString()).register(registry);
        Gauge.builder("gatehouse.backend.connections.active", state, s -> s.retired() ? Double.NaN : s.active())
                .description("Connections open to the backend server through this gateway")
                .tags("rule", rule, "backend", address.toString()).register(registry);
        return state;
    }

    @Override
    public synchronized void close() {
        checkers.forEach(HealthChecker::stop);
        checkers.clear();
    }
}
