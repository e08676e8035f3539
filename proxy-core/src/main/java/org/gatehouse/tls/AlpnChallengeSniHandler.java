package org.gatehouse.tls;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.Mapping;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.function.BiFunction;
import org.gatehouse.log.LogText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS handler of a listener that answers ACME tls-alpn-01 (RFC 8737): it reads the ClientHello, and when the
 * client offers ALPN {@code acme-tls/1} serves the pending challenge certificate for the name it asks for (SNI) with
 * that protocol negotiated, then closes after the handshake; the completion event never reaches the handlers after it,
 * so such a connection is never relayed to a backend nor taken for a client. Every other client gets the rule's own
 * context, chosen by SNI as before.
 */
final class AlpnChallengeSniHandler extends SniHandler {

    private static final Logger log = LoggerFactory.getLogger(AlpnChallengeSniHandler.class);
    static final String ANSWER = "acme-tls-alpn";

    private final AlpnChallenges challenges;
    private final BiFunction<SslContext, SslHandler, SslHandler> stapled;
    private boolean acme;

    AlpnChallengeSniHandler(Mapping<String, SslContext> byName, long handshakeTimeoutMillis,
            AlpnChallenges challenges, BiFunction<SslContext, SslHandler, SslHandler> stapled) {
        super(byName, handshakeTimeoutMillis);
        this.challenges = requireNonNull(challenges, "challenges");
        this.stapled = requireNonNull(stapled, "stapled");
    }

    @Override
    protected Future<SslContext> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) throws Exception {
        acme = clientHello != null && ClientHelloAlpn.offersAcmeTls1(clientHello);
        return super.lookup(ctx, clientHello);
    }

    @Override
    protected Future<SslContext> lookup(ChannelHandlerContext ctx, String hostname) throws Exception {
        if (!acme) {
            return super.lookup(ctx, hostname);
        }
        return ctx.executor().newSucceededFuture(challenges.context(hostname).orElse(null));
    }

    @Override
    protected void replaceHandler(ChannelHandlerContext ctx, String hostname, SslContext sslContext)
            throws Exception {
        if (!acme) {
            super.replaceHandler(ctx, hostname, sslContext);
            return;
        }
        String name = hostname == null ? "(no name)" : LogText.clean(hostname);
        if (sslContext == null) {
            log.info("closed a tls-alpn-01 handshake from {} for {}: no challenge is pending for that name",
                    ctx.channel().remoteAddress(), name);
            ctx.close();
            return;
        }
        ChannelPipeline pipeline = ctx.pipeline();
        pipeline.addAfter(ctx.name(), ANSWER, new Answer(challenges, name));
        super.replaceHandler(ctx, hostname, sslContext);
    }

    @Override
    protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
        SslHandler ssl = super.newSslHandler(context, allocator);
        return acme ? ssl : stapled.apply(context, ssl);
    }

    /** Right after the challenge's SslHandler: counts and logs the answer, closes, and lets nothing through. */
    private static final class Answer extends ChannelInboundHandlerAdapter {

        private final AlpnChallenges challenges;
        private final String name;

        Answer(AlpnChallenges challenges, String name) {
            this.challenges = challenges;
            this.name = name;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (!(evt instanceof SslHandshakeCompletionEvent handshake)) {
                ctx.fireUserEventTriggered(evt);
                return;
            }
            if (handshake.isSuccess()) {
                challenges.countAnswered();
                log.info("answered the ACME tls-alpn-01 challenge for {} to {}", name, ctx.channel().remoteAddress());
            } else {
                log.info("the ACME tls-alpn-01 handshake for {} from {} failed: {}", name,
                        ctx.channel().remoteAddress(), LogText.clean(String.valueOf(handshake.cause())));
            }
            ctx.close();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg); // the validation server sends nothing after the handshake
        }
    }
}
