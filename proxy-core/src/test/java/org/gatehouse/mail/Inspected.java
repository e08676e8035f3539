package org.gatehouse.mail;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.gatehouse.login.LoginGuard;
import org.gatehouse.login.PlaintextLogins;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.LoginPolicy;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.ProtectionSettings;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.SmtpSettings;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.rules.TlsSettings;
import org.gatehouse.session.Session;

/**
 * One inspector in an {@link EmbeddedChannel}: {@link #client} is what the client sends, {@link #backend} what the
 * backend answers; {@link #toBackend} and {@link #toClient} drain what came out on each side.
 */
final class Inspected {

    final EmbeddedChannel channel;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final PlaintextLogins report = PlaintextLogins.inMemory();
    final Session session;

    private Inspected(Protocol protocol, TlsMode mode, LoginSettings login, SmtpSettings smtp) {
        this(protocol, mode, login, smtp, null, ProtectionSettings.off());
    }

    private Inspected(Protocol protocol, TlsMode mode, LoginSettings login, SmtpSettings smtp, AccountGuard accounts,
            ProtectionSettings protection) {
        Rule rule = new Rule("r1", true, List.of(new HostPort("127.0.0.1", 0)), protocol,
                TlsSettings.of(mode, mode == TlsMode.NONE ? List.of() : List.of("test")), login,
                smtp, Backend.of(List.of(new HostPort("127.0.0.1", 1))), Access.any(), Limits.defaults(),
                Optional.empty(),
                SourcePosition.unknown("test"));
        session = new Session(rule, new InetSocketAddress("127.0.0.9", 40000), new GatewayMetrics(registry).rule("r1"));
        LoginGuard guard = new LoginGuard(login, report, accounts, protection);
        Supplier<ChannelHandler> startTls = mode == TlsMode.STARTTLS ? Inspected::serverSslHandler : null;
        MailInspector inspector = switch (protocol) {
            case POP3 -> new Pop3Inspector(session, guard, startTls);
            case IMAP -> new ImapInspector(session, guard, startTls);
            case SMTP -> new SmtpInspector(session, guard, startTls);
            case TCP -> throw new IllegalArgumentException();
        };
        channel = new EmbeddedChannel(inspector);
    }

    /** An implicit-TLS session whose logins account protection counts with {@code accounts}. */
    static Inspected protectedBy(Protocol protocol, AccountGuard accounts, ProtectionSettings protection) {
        return new Inspected(protocol, TlsMode.IMPLICIT, LoginSettings.secureOnly(), SmtpSettings.defaults(),
                accounts, protection);
    }

    static Inspected of(Protocol protocol, TlsMode mode, LoginPolicy policy) {
        return new Inspected(protocol, mode, new LoginSettings(policy, true), SmtpSettings.defaults());
    }

    static Inspected of(Protocol protocol, TlsMode mode, LoginSettings login) {
        return new Inspected(protocol, mode, login, SmtpSettings.defaults());
    }

    static Inspected smtp(TlsMode mode, LoginPolicy policy, SmtpSettings.BareLineEndings bareLineEndings) {
        return new Inspected(Protocol.SMTP, mode, new LoginSettings(policy, true), new SmtpSettings(bareLineEndings));
    }

    /** A TLS handler that is never used for a handshake here: the embedded tests only see it take its place. */
    private static SslHandler serverSslHandler() {
        try {
            SSLEngine engine = SSLContext.getDefault().createSSLEngine();
            engine.setUseClientMode(false);
            return new SslHandler(engine);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    Inspected client(String... parts) {
        for (String part : parts) {
            channel.writeInbound(Unpooled.copiedBuffer(part, StandardCharsets.ISO_8859_1));
        }
        return this;
    }

    Inspected backend(String... parts) {
        for (String part : parts) {
            // As the relay does it: a write that may fail (the inspector may close the channel) without throwing here.
            channel.pipeline().writeAndFlush(Unpooled.copiedBuffer(part, StandardCharsets.ISO_8859_1));
            channel.runPendingTasks();
        }
        return this;
    }

    /** Everything forwarded to the backend since the last call. */
    String toBackend() {
        return drain(true);
    }

    /** Everything sent to the client since the last call. */
    String toClient() {
        if (channel.isOpen()) {
            channel.flushOutbound();
        }
        return drain(false);
    }

    private String drain(boolean inbound) {
        StringBuilder text = new StringBuilder();
        Object msg;
        while ((msg = inbound ? channel.readInbound() : channel.readOutbound()) != null) {
            ByteBuf buf = (ByteBuf) msg;
            text.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return text.toString();
    }

    boolean inspecting() {
        return channel.pipeline().get(MailInspector.class) != null;
    }

    boolean tlsInstalled() {
        return channel.pipeline().get(SslHandler.class) != null;
    }

    double counter(String name, String... tags) {
        Counter c = registry.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    void close() {
        channel.finishAndReleaseAll();
    }
}
