package org.gatehouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.gatehouse.rules.Backend;
import org.junit.jupiter.api.Test;

/** The PROXY headers, byte for byte against HAProxy's proxy-protocol.txt (sections 2.1 and 2.2). */
class ProxyHeadersTest {

    /** The v2 signature: \r\n\r\n\0\r\nQUIT\n. */
    private static final String V2_SIGNATURE = "0d0a0d0a000d0a515549540a";

    private static byte[] written(Backend.ProxyProtocol version, InetSocketAddress client, InetSocketAddress local) {
        EmbeddedChannel backend = new EmbeddedChannel();
        try {
            if (client == null) {
                ProxyHeaders.sendLocal(backend, version);
            } else {
                ProxyHeaders.send(backend, version, client, local);
            }
            ByteBuf out = backend.readOutbound();
            try {
                assertThat(backend.pipeline().names()).as("the encoder leaves with the header").hasSize(1);
                return ByteBufUtil.getBytes(out);
            } finally {
                out.release();
            }
        } finally {
            backend.finishAndReleaseAll();
        }
    }

    @Test
    void v1IsOneTextLine() {
        byte[] header = written(Backend.ProxyProtocol.V1, new InetSocketAddress("198.51.100.7", 40000),
                new InetSocketAddress("192.0.2.10", 995));
        assertThat(new String(header, StandardCharsets.US_ASCII))
                .isEqualTo("PROXY TCP4 198.51.100.7 192.0.2.10 40000 995\r\n");

        byte[] v6 = written(Backend.ProxyProtocol.V1, new InetSocketAddress("2001:db8::7", 40000),
                new InetSocketAddress("2001:db8::10", 995));
        assertThat(new String(v6, StandardCharsets.US_ASCII))
                .isEqualTo("PROXY TCP6 2001:db8:0:0:0:0:0:7 2001:db8:0:0:0:0:0:10 "
                        + "40000 995\r\n");
    }

    @Test
    void v2IsTheBinaryHeaderWithAddressesAndPortsInNetworkOrder() {
        byte[] header = written(Backend.ProxyProtocol.V2, new InetSocketAddress("198.51.100.7", 40000),
                new InetSocketAddress("192.0.2.10", 995));
        // version 2 + PROXY (0x21), TCP over IPv4 (0x11), 12 bytes of addresses, then src, dst, sport, dport.
        assertThat(HexFormat.of().formatHex(header)).isEqualTo(V2_SIGNATURE + "21" + "11" + "000c"
                + "c6336407" + "c000020a" + "9c40" + "03e3");
    }

    @Test
    void anIpv4ClientOnAnIpv6ListenerIsWrittenIpv4Mapped() {
        byte[] header = written(Backend.ProxyProtocol.V2, new InetSocketAddress("198.51.100.7", 40000),
                new InetSocketAddress("2001:db8::10", 995));
        // TCP over IPv6 (0x21), 36 bytes.
        assertThat(HexFormat.of().formatHex(header)).startsWith(V2_SIGNATURE + "21" + "21" + "0024"
                + "00000000000000000000ffffc6336407");
    }

    @Test
    void healthChecksSendLocal() {
        assertThat(HexFormat.of().formatHex(written(Backend.ProxyProtocol.V2, null, null)))
                .isEqualTo(V2_SIGNATURE + "20" + "00" + "0000");
        assertThat(new String(written(Backend.ProxyProtocol.V1, null, null), StandardCharsets.US_ASCII))
                .isEqualTo("PROXY UNKNOWN\r\n");
    }
}
