package org.gatehouse.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/** The ClientHello's ALPN extension, read from real hellos of the JDK's client, and from broken ones. */
class ClientHelloAlpnTest {

    /** The ClientHello's body (after the record and handshake headers) of a JDK client offering {@code alpn}. */
    private static byte[] hello(String sni, String... alpn) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        SSLEngine engine = context.createSSLEngine(sni, 443);
        engine.setUseClientMode(true);
        SSLParameters params = engine.getSSLParameters();
        params.setApplicationProtocols(alpn);
        engine.setSSLParameters(params);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] record = new byte[out.remaining()];
        out.get(record);
        assertThat(record[0]).isEqualTo((byte) 22); // handshake
        assertThat(record[5]).isEqualTo((byte) 1); // client_hello
        return Arrays.copyOfRange(record, 9, record.length);
    }

    private static boolean offers(byte[] body) {
        ByteBuf buf = Unpooled.wrappedBuffer(body);
        boolean offered = ClientHelloAlpn.offersAcmeTls1(buf);
        assertThat(buf.readerIndex()).isZero();
        return offered;
    }

    @Test
    void seesAcmeTls1AmongTheOfferedProtocols() throws Exception {
        assertThat(offers(hello("mail.example.com", "acme-tls/1"))).isTrue();
        assertThat(offers(hello("mail.example.com", "h2", "acme-tls/1"))).isTrue();
    }

    @Test
    void otherProtocolsOrNoAlpnAreNotTheChallenge() throws Exception {
        assertThat(offers(hello("mail.example.com", "h2", "http/1.1"))).isFalse();
        assertThat(offers(hello("mail.example.com", "acme-tls/10"))).isFalse();
        assertThat(offers(hello("mail.example.com"))).isFalse();
    }

    @Test
    void aTruncatedHelloIsNotTheChallengeAndNeverThrows() throws Exception {
        byte[] full = hello("mail.example.com", "acme-tls/1");
        for (int length = 0; length < full.length; length++) {
            // the extension list's length no longer fits: nothing is read past the bytes at hand
            assertThat(offers(Arrays.copyOf(full, length))).as("first %d bytes", length).isFalse();
        }
    }

    @Test
    void corruptedHellosNeverReadOutOfBounds() throws Exception {
        byte[] full = hello("mail.example.com", "acme-tls/1");
        Random random = new Random(19);
        for (int i = 0; i < 5_000; i++) {
            byte[] broken = full.clone();
            for (int j = 0; j < 1 + random.nextInt(4); j++) {
                broken[random.nextInt(broken.length)] = (byte) random.nextInt(256);
            }
            offers(broken); // the answer may be either; an IndexOutOfBoundsException fails the test
        }
        byte[] lengthsAtMax = new byte[64];
        Arrays.fill(lengthsAtMax, (byte) 0xff);
        assertThat(offers(lengthsAtMax)).isFalse();
    }

    @Test
    void readsOnlyBetweenTheReaderAndWriterIndex() throws Exception {
        byte[] body = hello("mail.example.com", "acme-tls/1");
        byte[] padded = new byte[body.length + 20];
        System.arraycopy(body, 0, padded, 10, body.length);
        ByteBuf buf = Unpooled.wrappedBuffer(padded).setIndex(10, 10 + body.length);
        assertThat(ClientHelloAlpn.offersAcmeTls1(buf)).isTrue();
        assertThat(ClientHelloAlpn.offersAcmeTls1(buf.setIndex(10, 10 + body.length - 1))).isFalse();
    }
}
