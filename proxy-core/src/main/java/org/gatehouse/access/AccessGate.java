package org.gatehouse.access;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.gatehouse.dns.ClientName;
import org.gatehouse.dns.ClientNames;
import org.gatehouse.rules.AccessDecision;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.session.ProtocolReplies;
import org.gatehouse.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of every client connection (after a load balancer's PROXY header, if the rule reads one): checks
 * the client against the rule's access lists, then against its limits, when the connection becomes active. An admitted
 * client gets the rest of its pipeline and this handler removes itself.
 *
 * <p>A denied client is closed; on a listener that speaks plaintext first it is told so in its protocol ({@code -ERR},
 * {@code * BYE}, {@code 554}/{@code 421}), on an implicit-TLS listener it sees only the close, since no TLS has been
 * spoken. A client over a limit gets its protocol's "try again later" ({@code -ERR [SYS/TEMP]}, {@code * BYE
 * [UNAVAILABLE]}, {@code 421 4.7.0}), after the TLS handshake on an implicit-TLS listener.
 *
 * <p>When the lists name domains and the address alone does not decide, the client's forward-confirmed name is looked
 * up first, asynchronously. The channel does not read until the decision is made (auto-read is off), so no byte
 * crosses either way before, and other connections on the event loop carry on meanwhile. Bytes that did arrive with a
 * PROXY header are held and passed on after admission.
 */
public final class AccessGate extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(AccessGate.class);

    private final Session session;
    private final ClientNames names;
    private final DnsSettings.OnFailure onFailure;
    private final ConnectionLimits.RuleLimiter limiter;
    private final Consumer<ChannelPipeline> addImplicitTls;
    private final Consumer<ChannelPipeline> admitted;
    private final Queue<Object> early = new ArrayDeque<>();
    private Predicate<InetAddress> blocked = client -> false;

    /**
     * @param names          where client names come from, for rules whose lists name domains
     * @param onFailure      what a failed lookup means
     * @param limiter        the rule's connection counts
     * @param addImplicitTls adds the TLS handler on an implicit-TLS listener (nothing otherwise), for telling a client
     *                       over a limit so over TLS
     * @param admitted       adds the handlers that follow the gate, after it, for an admitted client
     */
    public AccessGate(Session session, ClientNames names, DnsSettings.OnFailure onFailure,
            ConnectionLimits.RuleLimiter limiter, Consumer<ChannelPipeline> addImplicitTls,
            Consumer<ChannelPipeline> admitted) {
        this.session = requireNonNull(session, "session");
        this.names = requireNonNull(names, "names");
        this.onFailure = requireNonNull(onFailure, "onFailure");
        this.limiter = requireNonNull(limiter, "limiter");
        this.addImplicitTls = requireNonNull(addImplicitTls, "addImplicitTls");
        this.admitted = requireNonNull(admitted, "admitted");
    }

    /** Account protection: a client whose address it blocked is refused before TLS, ahead of the limits. */
    public void blockedBy(Predicate<InetAddress> isBlocked) {
        this.blocked = requireNonNull(isBlocked, "isBlocked");
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        InetAddress client = session.client().getAddress();
        AccessDecision decision = session.rule().access().decide(client);
        if (decision != AccessDecision.Pending.NAME_REQUIRED) {
            apply(ctx, decision);
            return;
        }
        CompletableFuture<ClientName> name = names.lookup(client);
        if (name.isDone()) {
            decide(ctx, client, name.getNow(ClientName.Failure.ERROR));
        } else {
            name.whenCompleteAsync((n, error) -> decide(ctx, client, error == null ? n : ClientName.Failure.ERROR),
                    ctx.executor());
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        early.add(msg); // only what came in one read with a PROXY header: nothing else is read before the decision
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        Object msg;
        while ((msg = early.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }

    private void decide(ChannelHandlerContext ctx, InetAddress client, ClientName name) {
        session.clientName(name);
        if (ctx.isRemoved() || !ctx.channel().isActive()) {
            return; // the client left while its name was looked up; the access log says so
        }
        AccessDecision decision;
        if (name instanceof ClientName.Failure && onFailure == DnsSettings.OnFailure.DENY) {
            decision = new AccessDecision.Denied(AccessDecision.Reason.DNS_FAILURE);
        } else {
            decision = session.rule().access().decide(client, name.verifiedNames());
        }
        apply(ctx, decision);
    }

    private void apply(ChannelHandlerContext ctx, AccessDecision decision) {
        if (decision instanceof AccessDecision.Denied denied) {
            deny(ctx, denied.reason());
            return;
        }
        InetAddress client = session.client().getAddress();
        if (blocked.test(client)) {
            refuse(ctx, "address-blocked", ProtocolReplies.throttled(session.rule().protocol()));
            return;
        }
        Optional<String> over = limiter.acquire(client, session.rule().limits());
        if (over.isPresent()) {
            overLimit(ctx, over.get());
            return;
        }
        ctx.channel().closeFuture().addListener(f -> limiter.release(client));
        session.meters().accepted();
        admitted.accept(ctx.pipeline());
        ctx.fireChannelActive();
        passOnEarlyBytes(ctx);
        ctx.pipeline().remove(this);
    }

    private void passOnEarlyBytes(ChannelHandlerContext ctx) {
        if (early.isEmpty()) {
            return;
        }
        Object msg;
        while ((msg = early.poll()) != null) {
            ctx.fireChannelRead(msg);
        }
        ctx.fireChannelReadComplete();
    }

    /** Refused before TLS: the protocol's line on plaintext-first listeners, a bare close on implicit TLS. */
    private void refuse(ChannelHandlerContext ctx, String reason, Optional<String> line) {
        session.meters().rejected(reason);
        session.outcome(Session.Outcome.LIMITED, reason);
        log.debug("refused rule={} client={} reason={}", session.rule().name(), session.client(), reason);
        line.filter(l -> session.rule().tls().mode() != TlsMode.IMPLICIT).ifPresentOrElse(
                l -> ctx.writeAndFlush(ProtocolReplies.encode(ctx.alloc(), l)).addListener(ChannelFutureListener.CLOSE),
                ctx::close);
    }

    private void deny(ChannelHandlerContext ctx, AccessDecision.Reason reason) {
        String label = reason.label();
        session.meters().rejected(label);
        session.outcome(Session.Outcome.DENIED, label);
        log.debug("denied rule={} client={} reason={}", session.rule().name(), session.client(), label);
        boolean plaintextFirst = session.rule().tls().mode() != TlsMode.IMPLICIT;
        ProtocolReplies.denied(session.rule().protocol(), reason.temporary())
                .filter(line -> plaintextFirst)
                .ifPresentOrElse(
                        line -> ctx.writeAndFlush(ProtocolReplies.encode(ctx.alloc(), line))
                                .addListener(ChannelFutureListener.CLOSE),
                        ctx::close);
    }

    private void overLimit(ChannelHandlerContext ctx, String limit) {
        session.meters().rejected(limit);
        session.outcome(Session.Outcome.LIMITED, limit);
        log.debug("over limit rule={} client={} limit={}", session.rule().name(), session.client(), limit);
        Optional<String> line = ProtocolReplies.overLimit(session.rule().protocol());
        if (line.isEmpty()) {
            ctx.close();
        } else if (session.rule().tls().mode() == TlsMode.IMPLICIT) {
            addImplicitTls.accept(ctx.pipeline());
            ctx.pipeline().addLast(new TlsRefusal(session, line.get()));
            ctx.fireChannelActive();
            passOnEarlyBytes(ctx);
            ctx.pipeline().remove(this);
        } else {
            ctx.writeAndFlush(ProtocolReplies.encode(ctx.alloc(), line.get())).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
