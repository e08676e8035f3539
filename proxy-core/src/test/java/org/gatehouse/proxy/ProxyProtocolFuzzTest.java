package org.gatehouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.rules.Access;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.Limits;
import org.gatehouse.rules.LoginSettings;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.Rule;
import org.gatehouse.rules.SmtpSettings;
import org.gatehouse.rules.SourcePosition;
import org.gatehouse.rules.TlsSettings;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.DomainSet;
import org.gatehouse.session.Session;

/**
 * The PROXY protocol reader under whatever a trusted load balancer's connection may carry: no exception escapes, no
 * buffer leaks, and the connection is either admitted with a client address from the header, refused (closed), or
 * still waiting for a header that is not complete; a header is never longer than the protocol allows before one of
 * the first two happens. Regression inputs under {@code ProxyProtocolFuzzTestInputs/}; {@code .ci/fuzz} fuzzes it.
 */
class ProxyProtocolFuzzTest {

    /** A v2 header's fixed part and the largest address block Netty's decoder takes. */
    private static final int LONGEST_HEADER = 16 + 65535;

    private static final Rule RULE = new Rule("r", true, List.of(new HostPort("127.0.0.1", 0)), Protocol.TCP,
            TlsSettings.none(), LoginSettings.secureOnly(), SmtpSettings.defaults(),
            Backend.of(List.of(new HostPort("127.0.0.1", 1))), Access.any(), Limits.defaults(), Optional.empty(),
            SourcePosition.unknown("fuzz"));
    private static final ClientList TRUSTED = new ClientList(List.of("lb"),
            AddressSet.of(List.of(AddressBlock.parse("127.0.0.1/32"))), DomainSet.empty());

    @FuzzTest(maxDuration = "10s")
    void header(byte[] data) {
        Session session = new Session(RULE, new InetSocketAddress("127.0.0.1", 40000),
                new GatewayMetrics(new SimpleMeterRegistry()).rule("r"));
        EmbeddedChannel channel = new EmbeddedChannel(new ProxyProtocolReader(session, TRUSTED, 60_000));
        try {
            int read = data.length == 0 ? 1 : (data[0] & 0x1f) + 1;
            for (int i = 1; i < data.length && channel.isOpen(); i += read) {
                channel.writeInbound(Unpooled.wrappedBuffer(data, i, Math.min(read, data.length - i)));
                channel.checkException();
            }
            boolean admitted = channel.pipeline().get(ProxyProtocolReader.class) == null;
            if (admitted) {
                assertThat(session.client().getAddress()).as("a client from the header, or the peer (LOCAL)")
                        .isNotNull();
            } else if (channel.isOpen()) {
                assertThat(data.length).as("still waiting after this many bytes").isLessThanOrEqualTo(LONGEST_HEADER);
            }
            Object passedOn;
            while ((passedOn = channel.readInbound()) != null) {
                assertThat(admitted).as("bytes passed on before the connection was admitted").isTrue();
                ((ByteBuf) passedOn).release();
            }
        } finally {
            channel.finishAndReleaseAll();
        }
    }
}
