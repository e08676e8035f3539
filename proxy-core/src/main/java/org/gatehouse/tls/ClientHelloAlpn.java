package org.gatehouse.tls;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Reads a TLS ClientHello's ALPN extension (RFC 7301, extension 16) to tell whether the client offers
 * {@code acme-tls/1}, the protocol of the ACME tls-alpn-01 challenge (RFC 8737). Every length is checked against the
 * bytes at hand: a malformed or truncated hello is simply "not offered", never an exception; the buffer's indexes are
 * left alone.
 */
public final class ClientHelloAlpn {

    /** The ALPN protocol a CA's validation server offers, and the only one it accepts back. */
    public static final String ACME_TLS_1 = "acme-tls/1";

    private static final byte[] ACME = ACME_TLS_1.getBytes(StandardCharsets.US_ASCII);
    private static final int ALPN_EXTENSION = 16;
    /** client_version (2) and random (32), before the session id. */
    private static final int FIXED_PREFIX = 34;

    private ClientHelloAlpn() {
    }

    /**
     * Whether {@code clientHello} (the handshake message's body, from client_version on, as Netty's
     * {@code SslClientHelloHandler} hands it over) offers {@code acme-tls/1} in its ALPN extension.
     */
    public static boolean offersAcmeTls1(ByteBuf clientHello) {
        int end = clientHello.writerIndex();
        int at = clientHello.readerIndex() + FIXED_PREFIX;
        at = skip(clientHello, at, end, 1); // session_id
        at = skip(clientHello, at, end, 2); // cipher_suites
        at = skip(clientHello, at, end, 1); // compression_methods
        if (at < 0 || end - at < 2) {
            return false;
        }
        int extensionsEnd = at + 2 + clientHello.getUnsignedShort(at);
        if (extensionsEnd > end) {
            return false;
        }
        at += 2;
        while (extensionsEnd - at >= 4) {
            int type = clientHello.getUnsignedShort(at);
            int length = clientHello.getUnsignedShort(at + 2);
            int bodyStart = at + 4;
            if (length > extensionsEnd - bodyStart) {
                return false;
            }
            if (type == ALPN_EXTENSION) {
                return alpnOffers(clientHello, bodyStart, bodyStart + length);
            }
            at = bodyStart + length;
        }
        return false;
    }

    /** The ProtocolNameList: a two-byte length, then one-byte-length names. */
    private static boolean alpnOffers(ByteBuf buf, int start, int end) {
        if (end - start < 2) {
            return false;
        }
        int listEnd = start + 2 + buf.getUnsignedShort(start);
        if (listEnd > end) {
            return false;
        }
        int at = start + 2;
        while (at < listEnd) {
            int length = buf.getUnsignedByte(at);
            int nameStart = at + 1;
            if (length > listEnd - nameStart) {
                return false;
            }
            if (length == ACME.length && matches(buf, nameStart)) {
                return true;
            }
            at = nameStart + length;
        }
        return false;
    }

    private static boolean matches(ByteBuf buf, int at) {
        for (int i = 0; i < ACME.length; i++) {
            if (buf.getByte(at + i) != ACME[i]) {
                return false;
            }
        }
        return true;
    }

    /** Past a vector with a {@code lengthBytes}-byte length at {@code at}; -1 when it does not fit before end. */
    private static int skip(ByteBuf buf, int at, int end, int lengthBytes) {
        if (at < 0 || end - at < lengthBytes) {
            return -1;
        }
        int length = lengthBytes == 1 ? buf.getUnsignedByte(at) : buf.getUnsignedShort(at);
        int next = at + lengthBytes + length;
        return next > end ? -1 : next;
    }
}
