package org.gatehouse.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.gatehouse.login.LoginGuard;
import org.gatehouse.login.PlaintextLogins;
import org.gatehouse.mail.ImapInspector;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.SmtpSettings;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.TlsMode;
import org.gatehouse.rules.TlsSettings;
import org.gatehouse.session.Session;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-line work of the IMAP inspector on a server line before login: an untagged CAPABILITY line rewritten (the
 * backend's STARTTLS and clear-text mechanisms out, the gateway's policy in), through an embedded channel.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CapabilityFilterBenchmark {

    private static final byte[] LINE = ("* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
            + "AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5\r\n").getBytes(StandardCharsets.US_ASCII);

    private EmbeddedChannel channel;

    @Setup
    public void setUp() {
        Rule rule = new Rule("imap", true, List.of(new HostPort("127.0.0.1", 143)), Protocol.IMAP,
                TlsSettings.of(TlsMode.IMPLICIT, List.of("bench")), LoginSettings.secureOnly(),
                SmtpSettings.defaults(), Backend.of(List.of(new HostPort("127.0.0.1", 1143))), Access.any(),
                Limits.defaults(), Optional.empty(),
                SourcePosition.unknown("bench"));
        Session session = new Session(rule, new InetSocketAddress("127.0.0.9", 40000),
                new GatewayMetrics(new SimpleMeterRegistry()).rule("imap"));
        channel = new EmbeddedChannel(
                new ImapInspector(session, new LoginGuard(rule.login(), PlaintextLogins.inMemory()),
                        null));
        channel.writeOutbound(Unpooled.copiedBuffer("* OK IMAP ready\r\n", StandardCharsets.US_ASCII));
        ((ByteBuf) channel.readOutbound()).release();
    }

    @Benchmark
    public int rewriteCapabilityLine() {
        channel.writeOutbound(Unpooled.wrappedBuffer(LINE));
        int n = 0;
        ByteBuf out;
        while ((out = channel.readOutbound()) != null) {
            n += out.readableBytes();
            out.release();
        }
        return n;
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
    }
}
