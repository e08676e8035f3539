package org.gatehouse.relay;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import org.gatehouse.access.ConnectionLimits;
import org.gatehouse.backend.BackendPool;
import org.gatehouse.backend.ServerState;
import org.gatehouse.log.RateLimitedLog;
import org.gatehouse.proxy.ProxyHeaders;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.session.PipelineNames;
import org.gatehouse.session.ProtocolReplies;
import org.gatehouse.session.ResourceFailures;
import org.gatehouse.session.Session;
import org.gatehouse.session.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the backend connection once the client is ready for it (right away, or after the TLS handshake), on the
 * client's own event loop, trying the pool's healthy servers in its balance order; no client byte is forwarded before
 * one accepts, so moving on to the next server is always safe. On success it sends the PROXY header if the rule asks
 * for one (or lets {@link ClientIdentityExchange} tell the server the client's address in its protocol first, holding
 * the client's bytes meanwhile), installs a {@link RelayHandler} on each side and replaces itself; when no server accepts (or none is
 * healthy), the client gets its protocol's "try again later" and a close.
 */
public final class BackendConnector extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(BackendConnector.class);
    private static final RateLimitedLog SHED = new RateLimitedLog(LoggerFactory.getLogger("gatehouse.connections"));

    /** Client bytes held while the backend connection opens; a client sending more is misbehaving. */
    static final int MAX_PENDING_BYTES = 64 * 1024;

    private final Session session;
    private final BackendPool pool;
    private final Class<? extends SocketChannel> channelClass;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final ConnectionLimits.PreLoginSlot preLogin;
    private List<ServerState> candidates;

    private final ArrayDeque<Object> pending = new ArrayDeque<>();
    private int pendingBytes;
    private boolean clientInputEnded;
    private Channel backend;

    /**
     * @param preLogin the client's pre-login backend slot (mail rules), taken before connecting; null for tcp rules,
     *                 whose clients never log in as far as the gateway can tell
     */
    public BackendConnector(Session session, BackendPool pool, Class<? extends SocketChannel> channelClass,
            AddressResolverGroup<InetSocketAddress> resolver, ConnectionLimits.PreLoginSlot preLogin) {
        this.session = requireNonNull(session, "session");
        this.pool = requireNonNull(pool, "pool");
        this.channelClass = requireNonNull(channelClass, "channelClass");
        this.resolver = requireNonNull(resolver, "resolver");
        this.preLogin = preLogin;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (session.rule().tls().mode() != TlsMode.IMPLICIT) {
            connect(ctx, 0);
        } else {
            ctx.read(); // the ClientHello; SslHandler reads on by itself until the handshake is done
        }
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (Relay.isEndOfInput(evt)) {
            // The client finished sending before the backend was there: passed on once the relay is in place.
            clientInputEnded = true;
        }
        if (evt instanceof SslHandshakeCompletionEvent handshake && backend == null) {
            // Implicit TLS: the handshake is what the backend connection waits for (its outcome is recorded, and a
            // failure closed, by tls.HandshakeOutcome). A STARTTLS handshake comes after the backend is connected.
            if (handshake.isSuccess()) {
                connect(ctx, 0);
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // Early client bytes: kept until the backend is there, within a bound.
        if (msg instanceof ByteBuf buf) {
            pendingBytes += buf.readableBytes();
        }
        pending.add(msg);
        if (pendingBytes > MAX_PENDING_BYTES) {
            log.debug("client sent {} bytes before the backend was connected rule={} client={}", pendingBytes,
                    session.rule().name(), session.client());
            session.outcome(Session.Outcome.ERROR, "too-much-early-data");
            releasePending();
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releasePending();
        if (backend != null && backend.isOpen()) { // not a channel that could not even be created (no descriptors)
            backend.close();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releasePending();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Handshake failures arrive here too, after their completion event has already recorded them.
        Failures.log(session, "client", cause);
        ctx.close();
    }

    private void releasePending() {
        Object msg;
        while ((msg = pending.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
        pendingBytes = 0;
    }

    private void connect(ChannelHandlerContext ctx, int index) {
        if (candidates == null) {
            candidates = pool.candidates();
            if (candidates.isEmpty()) {
                log.warn("no healthy backend rule={} client={}: health checks took every server out",
                        session.rule().name(),
                        session.client());
                unavailable(ctx);
                return;
            }
            int max = session.rule().limits().maxPreLoginConnections();
            if (preLogin != null && !preLogin.tryAcquire(max)) {
                tooManyBeforeLogin(ctx, max);
                return;
            }
        }
        ServerState server = candidates.get(index);
        Channel frontend = ctx.channel();
        Bootstrap bootstrap = new Bootstrap()
                .group(frontend.eventLoop())
                .channelFactory(Transport.socketFactory(channelClass))
                .resolver(resolver)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) pool.settings().connectTimeout().toMillis())
                .handler(new ChannelInboundHandlerAdapter());
        if (pool.settings().transparent()) {
            // From the client's own address, so that even a server that knows no PROXY protocol sees the real client.
            bootstrap.option(EpollChannelOption.IP_TRANSPARENT, true)
                    .localAddress(new InetSocketAddress(session.client().getAddress(), 0));
        }
        long start = System.nanoTime();
        ChannelFuture connecting = bootstrap.connect(server.address().toSocketAddress());
        backend = connecting.channel();
        connecting.addListener((ChannelFutureListener) f -> {
            // A channel that could not be created completes on Netty's global executor: back to the client's loop.
            if (frontend.eventLoop().inEventLoop()) {
                connected(ctx, f, server, index, start);
            } else {
                frontend.eventLoop().execute(() -> connected(ctx, f, server, index, start));
            }
        });
    }

    private void connected(ChannelHandlerContext ctx, ChannelFuture f, ServerState server, int index, long start) {
        Channel frontend = ctx.channel();
        if (!frontend.isActive()) {
            if (f.channel().isOpen()) {
                f.channel().close();
            }
            return;
        }
        if (!f.isSuccess() && ResourceFailures.isOutOfFileDescriptors(f.cause())) {
            // The gateway's own shortage, not the server's fault: no other server would do better.
            ResourceFailures.outOfFileDescriptors(session.meters(), "backend-connect",
                    "clients get \"try again later\"");
            unavailable(ctx);
            return;
        }
        if (f.isSuccess()) {
            session.meters().backendConnected(server.toString(), System.nanoTime() - start);
            pool.opened(server);
            f.channel().closeFuture().addListener(c -> pool.closed(server));
            relay(ctx, f.channel(), server);
            return;
        }
        session.meters().backendConnectFailed(server.toString());
        log.warn("backend unreachable rule={} backend={} client={}: {}{}", session.rule().name(), server,
                session.client(), describe(f.cause()), pool.settings().transparent()
                        ? " (transparent connections need CAP_NET_ADMIN and the routing in docs/transparent.md)"
                        : "");
        if (index + 1 < candidates.size()) {
            connect(ctx, index + 1);
        } else {
            unavailable(ctx);
        }
    }

    private void relay(ChannelHandlerContext ctx, Channel backendChannel, ServerState server) {
        Channel frontend = ctx.channel();
        session.backend(server.toString());
        if (session.rule().protocol().isMail()) {
            backendChannel.pipeline().addLast(PipelineNames.GREETING_TIMEOUT,
                    new GreetingTimeout(frontend, session, pool,
                            server, pool.settings().greetingTimeout().toMillis()));
        }
        backendChannel.pipeline().addLast(PipelineNames.RELAY, new RelayHandler(frontend, session, false));
        if (pool.settings().sendProxyProtocol() != Backend.ProxyProtocol.OFF) {
            ProxyHeaders.send(backendChannel, pool.settings().sendProxyProtocol(), session.client(),
                    (InetSocketAddress) frontend.localAddress());
        }
        Backend.ClientIdentity identity = pool.settings().clientIdentity();
        if (identity.inBand() && session.rule().protocol().isMail()) {
            // The server hears the client's address first: client bytes wait here (bounded) until that is done.
            IdentityDialogue dialogue = IdentityDialogue.of(identity, session.rule().protocol(), session.client(),
                    Optional.of(session.verifiedName()).filter(n -> !n.isEmpty()),
                    (InetSocketAddress) backendChannel.localAddress());
            backendChannel.pipeline().addBefore(PipelineNames.RELAY, PipelineNames.CLIENT_IDENTITY,
                    new ClientIdentityExchange(dialogue, session, server.toString(),
                            new ClientIdentityExchange.Handover() {
                                @Override
                                public void relay() {
                                    handOver(ctx, backendChannel);
                                }

                                @Override
                                public void fail() {
                                    session.meters().rejected("client-identity");
                                    Relay.sayAndClose(frontend, ProtocolReplies.backendUnavailable(
                                            session.rule().protocol()));
                                }
                            }));
            Relay.setReading(backendChannel, true);
            return;
        }
        handOver(ctx, backendChannel);
    }

    /** The relay takes over on both sides, with the client's early bytes handed to the server first. */
    private void handOver(ChannelHandlerContext ctx, Channel backendChannel) {
        Channel frontend = ctx.channel();
        if (ctx.isRemoved()) {
            return; // the client is gone (and its backend connection closing)
        }
        Object msg;
        while ((msg = pending.poll()) != null) {
            if (msg instanceof ByteBuf buf) {
                session.fromClient(buf.readableBytes());
            }
            backendChannel.write(msg, backendChannel.voidPromise());
        }
        pendingBytes = 0;
        backendChannel.flush();
        RelayHandler clientToBackend = new RelayHandler(backendChannel, session, true);
        ctx.pipeline().replace(this, PipelineNames.RELAY, clientToBackend);
        Relay.setReading(frontend, true);
        Relay.setReading(backendChannel, true);
        if (clientInputEnded) {
            clientToBackend.inputEnded(frontend);
        }
    }

    private void unavailable(ChannelHandlerContext ctx) {
        session.meters().rejected("no-backend");
        session.outcome(Session.Outcome.BACKEND_UNAVAILABLE, "no-backend");
        ProtocolReplies.backendUnavailable(session.rule().protocol()).ifPresentOrElse(
                line -> ctx.writeAndFlush(ProtocolReplies.encode(ctx.alloc(), line))
                        .addListener(ChannelFutureListener.CLOSE),
                ctx::close);
    }

    /** The rule's backend connections for clients not logged in yet are all taken: this one is turned away. */
    private void tooManyBeforeLogin(ChannelHandlerContext ctx, int max) {
        String rule = session.rule().name();
        session.meters().rejected("max-pre-login-connections");
        session.outcome(Session.Outcome.LIMITED, "max-pre-login-connections");
        SHED.info("pre-login/" + rule, () -> "turned clients away: the rule's backend connections for clients not "
                + "logged in yet are all taken rule=" + rule + " maxPreLoginConnections=" + max);
        ProtocolReplies.tooManyBeforeLogin(session.rule().protocol()).ifPresentOrElse(
                line -> ctx.writeAndFlush(ProtocolReplies.encode(ctx.alloc(), line))
                        .addListener(ChannelFutureListener.CLOSE),
                ctx::close);
    }

    private static String describe(Throwable cause) {
        return cause == null ? "unknown" : cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }
}
