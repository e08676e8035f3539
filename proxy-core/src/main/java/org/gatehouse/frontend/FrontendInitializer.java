package org.gatehouse.frontend;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.gatehouse.access.AccessGate;
import org.gatehouse.access.ConnectionLimits;
import org.gatehouse.backend.BackendPool;
import org.gatehouse.log.AccessLog;
import org.gatehouse.login.LoginGuard;
import org.gatehouse.login.PlaintextLogins;
import org.gatehouse.mail.ImapInspector;
import org.gatehouse.mail.MailInspector;
import org.gatehouse.mail.Pop3Inspector;
import org.gatehouse.mail.SmtpInspector;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.proxy.ProxyProtocolReader;
import org.gatehouse.relay.BackendConnector;
import org.gatehouse.rules.ProtectionSettings;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.session.PipelineNames;
import org.gatehouse.session.Session;
import org.gatehouse.tls.HandshakeOutcome;

/**
 * Builds the pipeline of each connection accepted on one listening socket; see {@link PipelineNames} for the picture.
 * The rule is found in the current snapshot at accept time, by the socket's binding, so that after a reload a kept
 * socket serves the new rule while each connection keeps the rules it was accepted under.
 */
public final class FrontendInitializer extends ChannelInitializer<SocketChannel> {

    private final Function<RulesSnapshot, Optional<Rule>> ruleOf;
    private final Supplier<Serving> serving;
    private final GatewayMetrics metrics;
    private final Class<? extends SocketChannel> backendChannelClass;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final PlaintextLogins plaintextLogins;
    private final ChannelGroup connections;

    /**
     * @param ruleOf      the rule this socket serves in a snapshot (none once a reload removed it)
     * @param serving     what new connections are served with now
     * @param connections where every accepted connection is registered, for draining at shutdown
     */
    public FrontendInitializer(Function<RulesSnapshot, Optional<Rule>> ruleOf, Supplier<Serving> serving,
            GatewayMetrics metrics, Class<? extends SocketChannel> backendChannelClass,
            AddressResolverGroup<InetSocketAddress> resolver, PlaintextLogins plaintextLogins,
            ChannelGroup connections) {
        this.ruleOf = requireNonNull(ruleOf, "ruleOf");
        this.serving = requireNonNull(serving, "serving");
        this.metrics = requireNonNull(metrics, "metrics");
        this.backendChannelClass = requireNonNull(backendChannelClass, "backendChannelClass");
        this.resolver = requireNonNull(resolver, "resolver");
        this.plaintextLogins = requireNonNull(plaintextLogins, "plaintextLogins");
        this.connections = requireNonNull(connections, "connections");
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        Serving now = servingRetained();
        if (now == null) {
            ch.close(); // the gateway is stopping and its TLS contexts are gone
            return;
        }
        RulesSnapshot current = now.snapshot();
        // The connection may start TLS later (after a DNS lookup, or at STARTTLS): it keeps its snapshot's contexts.
        ch.closeFuture().addListener(f -> current.tls().release());
        Rule rule = ruleOf.apply(current).orElse(null);
        BackendPool pool = rule == null ? null : now.pool(rule.name()).orElse(null);
        if (pool == null) {
            ch.close(); // accepted in the instant between a reload's swap and this socket's close
            return;
        }
        connections.add(ch);
        Session session = new Session(rule, ch.remoteAddress(), metrics.rule(rule.name()),
                AccessLog.of(current.rules().service().accessLogFormat()));
        session.meters().opened();
        ch.closeFuture().addListener(f -> {
            session.meters().closed();
            session.end();
        });
        ch.pipeline().addLast(PipelineNames.HANGUP, new Hangup(session));
        addProxyProtocolReader(ch.pipeline(), session);
        ConnectionLimits.RuleLimiter limiter = now.limits().forRule(rule.name());
        ProtectionSettings protection = current.rules().protection().forRule(rule);
        AccessGate gate = new AccessGate(session, now.names(), current.rules().dns().onFailure(), limiter,
                p -> addTls(p, current, session), p -> {
                    addIdleTimeout(p, session);
                    addTls(p, current, session);
                    addInspector(p, current, session, now.accounts(), protection);
                    ConnectionLimits.PreLoginSlot slot = addPreLogin(p, session, limiter);
                    addBackendConnector(p, session, pool, slot);
                });
        gate.blockedBy(client -> now.accounts().refusesConnection(protection, rule.name(), client));
        ch.pipeline().addLast(PipelineNames.ACCESS_GATE, gate);
    }

    /**
     * What new connections are served with, its TLS contexts retained: a reload swaps in a new snapshot and then
     * releases the old one, so a failed retain means there is a newer one to read; none means the gateway is stopping.
     */
    private Serving servingRetained() {
        Serving last = null;
        for (Serving now = serving.get(); now != last; last = now, now = serving.get()) {
            if (now.snapshot().tls().tryRetain()) {
                return now;
            }
        }
        return null;
    }

    /** Behind a load balancer that sends the PROXY protocol, its header names the client before the gate decides. */
    private static void addProxyProtocolReader(ChannelPipeline p, Session session) {
        Rule rule = session.rule();
        rule.acceptProxyProtocol().ifPresent(trusted -> p.addLast(PipelineNames.PROXY_PROTOCOL,
                new ProxyProtocolReader(session, trusted, rule.limits().handshakeTimeout().toMillis())));
    }

    private static void addIdleTimeout(ChannelPipeline p, Session session) {
        session.rule().limits().idleTimeoutFor(session.rule().protocol()).ifPresent(idle -> p.addLast(
                PipelineNames.IDLE_TIMEOUT, new IdleTimeout(session, idle.toMillis())));
    }

    private static void addTls(ChannelPipeline p, RulesSnapshot current, Session session) {
        Rule rule = session.rule();
        if (rule.tls().mode() != TlsMode.IMPLICIT) {
            return;
        }
        session.tlsStarting();
        HandshakeOutcome.addLast(p, current.tls().newHandler(rule, p.channel().alloc(),
                rule.limits().handshakeTimeout().toMillis()), session);
    }

    /** Mail rules get their protocol's inspector: STARTTLS, capability filtering and the login policy. */
    private void addInspector(ChannelPipeline p, RulesSnapshot current, Session session, AccountGuard accounts,
            ProtectionSettings protection) {
        Rule rule = session.rule();
        if (!rule.protocol().isMail()) {
            return;
        }
        LoginGuard guard = new LoginGuard(rule.login(), plaintextLogins, accounts, protection);
        long handshakeTimeout = rule.limits().handshakeTimeout().toMillis();
        Supplier<ChannelHandler> startTls = rule.tls().mode() == TlsMode.STARTTLS
                ? () -> current.tls().newHandler(rule, p.channel().alloc(), handshakeTimeout)
                : null;
        MailInspector inspector = switch (rule.protocol()) {
            case POP3 -> new Pop3Inspector(session, guard, startTls);
            case IMAP -> new ImapInspector(session, guard, startTls);
            case SMTP -> new SmtpInspector(session, guard, startTls);
            case TCP -> throw new IllegalStateException("tcp has no inspector");
        };
        p.addLast(PipelineNames.INSPECT, inspector);
        p.channel().closeFuture().addListener(f -> guard.ended(session));
    }

    /**
     * Mail rules: the client's claim on one of the rule's backend connections for clients not logged in yet, and the
     * pre-login idle timeout; given back at login or close. None for tcp rules.
     */
    private static ConnectionLimits.PreLoginSlot addPreLogin(ChannelPipeline p, Session session,
            ConnectionLimits.RuleLimiter limiter) {
        if (!session.rule().protocol().isMail()) {
            return null;
        }
        ConnectionLimits.PreLoginSlot slot = limiter.preLoginSlot();
        p.channel().closeFuture().addListener(f -> slot.release());
        p.addLast(PipelineNames.PRE_LOGIN, new PreLogin(session, slot,
                session.rule().limits().preLoginIdleTimeout().toMillis()));
        return slot;
    }

    private void addBackendConnector(ChannelPipeline p, Session session, BackendPool pool,
            ConnectionLimits.PreLoginSlot preLogin) {
        p.addLast(PipelineNames.BACKEND_CONNECT, new BackendConnector(session, pool, backendChannelClass, resolver,
                preLogin));
    }
}
