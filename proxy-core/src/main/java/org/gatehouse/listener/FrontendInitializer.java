package org.gatehouse.listener;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.util.function.Supplier;
import org.gatehouse.access.AccessGate;
import org.gatehouse.gateway.RulesSnapshot;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.relay.BackendConnector;
import org.gatehouse.rules.Rule;
import org.gatehouse.session.Session;

/**
 * Builds the pipeline of each connection accepted on one rule's listener; see {@link PipelineNames} for the picture.
 * The rule is read from the current snapshot at accept time, so a connection keeps the rules it was accepted under.
 */
public final class FrontendInitializer extends ChannelInitializer<SocketChannel> {

    static final long HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    static final int BACKEND_CONNECT_TIMEOUT_MILLIS = 5_000;

    private final String ruleName;
    private final Supplier<RulesSnapshot> snapshot;
    private final GatewayMetrics metrics;
    private final Class<? extends SocketChannel> backendChannelClass;
    private final AddressResolverGroup<InetSocketAddress> resolver;

    public FrontendInitializer(String ruleName, Supplier<RulesSnapshot> snapshot, GatewayMetrics metrics,
            Class<? extends SocketChannel> backendChannelClass, AddressResolverGroup<InetSocketAddress> resolver) {
        this.ruleName = requireNonNull(ruleName, "ruleName");
        this.snapshot = requireNonNull(snapshot, "snapshot");
        this.metrics = requireNonNull(metrics, "metrics");
        this.backendChannelClass = requireNonNull(backendChannelClass, "backendChannelClass");
        this.resolver = requireNonNull(resolver, "resolver");
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        RulesSnapshot current = snapshot.get();
        Rule rule = current.rules().rule(ruleName).orElseThrow();
        Session session = new Session(rule, ch.remoteAddress(), metrics.rule(ruleName));
        session.meters().opened();
        ch.closeFuture().addListener(f -> {
            session.meters().closed();
            session.end();
        });
        ch.pipeline().addLast(PipelineNames.ACCESS_GATE, new AccessGate(session, p -> {
            addTls(p, current, rule);
            addBackendConnector(p, session);
        }));
    }

    private static void addTls(ChannelPipeline p, RulesSnapshot current, Rule rule) {
        if (!rule.tls().enabled()) {
            return;
        }
        SslHandler ssl = current.tls().forRule(rule).newHandler(p.channel().alloc());
        ssl.setHandshakeTimeoutMillis(HANDSHAKE_TIMEOUT_MILLIS);
        p.addLast(PipelineNames.TLS, ssl);
    }

    private void addBackendConnector(ChannelPipeline p, Session session) {
        p.addLast(PipelineNames.BACKEND_CONNECT,
                new BackendConnector(session, backendChannelClass, resolver, BACKEND_CONNECT_TIMEOUT_MILLIS));
    }
}
