package org.gatehouse.access;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import java.net.InetAddress;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.gatehouse.dns.ClientName;
import org.gatehouse.dns.ClientNames;
import org.gatehouse.mail.ProtocolReplies;
import org.gatehouse.rules.AccessDecision;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of every client connection: checks the client against the rule's access lists when the connection
 * becomes active. An admitted client gets the rest of its pipeline and this handler removes itself. A denied one is
 * closed; on a listener that speaks plaintext first it is told so in its protocol ({@code -ERR}, {@code * BYE},
 * {@code 554}/{@code 421}), on an implicit-TLS listener it sees only the close, since no TLS has been spoken.
 *
 * <p>When the lists name domains and the address alone does not decide, the client's forward-confirmed name is looked
 * up first, asynchronously. The channel does not read until the decision is made (auto-read is off), so no byte
 * crosses either way before, and other connections on the event loop carry on meanwhile.
 */
public final class AccessGate extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(AccessGate.class);

    private final Session session;
    private final ClientNames names;
    private final DnsSettings.OnFailure onFailure;
    private final Consumer<ChannelPipeline> admitted;

    /**
     * @param names     where client names come from, for rules whose lists name domains
     * @param onFailure what a failed lookup means
     * @param admitted  adds the handlers that follow the gate, after it, for an admitted client
     */
    public AccessGate(Session session, ClientNames names, DnsSettings.OnFailure onFailure,
            Consumer<ChannelPipeline> admitted) {
        this.session = requireNonNull(session, "session");
        this.names = requireNonNull(names, "names");
        this.onFailure = requireNonNull(onFailure, "onFailure");
        this.admitted = requireNonNull(admitted, "admitted");
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
        session.meters().accepted();
        admitted.accept(ctx.pipeline());
        ctx.fireChannelActive();
        ctx.pipeline().remove(this);
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
}
