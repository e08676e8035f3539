package org.gatehouse.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Reads the record headers of what the client sends during the TLS handshake, without consuming anything, to catch a
 * plaintext alert. A TLS 1.3 client that rejects the server's certificate sends its alert in plaintext while the server
 * already expects encrypted records, so the engine reports only a record it cannot decrypt ({@code BAD_PACKET_LENGTH});
 * the alert's description is what says why. It sits right before the {@code SslHandler} and leaves with the handshake.
 */
final class ClientAlerts extends ChannelInboundHandlerAdapter {

    private static final int ALERT = 21;
    private static final int HEADER = 5;

    private final byte[] header = new byte[HEADER];
    private int headerBytes;
    private int recordType;
    private int recordLength;
    private int bodyRead;
    /** The description of the last plaintext alert the client sent, or -1. */
    private int description = -1;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            scan(buf);
        }
        ctx.fireChannelRead(msg);
    }

    private void scan(ByteBuf buf) {
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        while (i < end) {
            if (headerBytes < HEADER) {
                header[headerBytes++] = buf.getByte(i++);
                if (headerBytes == HEADER) {
                    recordType = header[0] & 0xff;
                    recordLength = (header[3] & 0xff) << 8 | header[4] & 0xff;
                    bodyRead = 0;
                    headerBytes = recordLength == 0 ? 0 : HEADER;
                }
                continue;
            }
            int step = Math.min(end - i, recordLength - bodyRead);
            if (recordType == ALERT && recordLength == 2 && bodyRead <= 1 && bodyRead + step > 1) {
                description = buf.getByte(i + 1 - bodyRead) & 0xff; // level, then description
            }
            i += step;
            bodyRead += step;
            if (bodyRead == recordLength) {
                headerBytes = 0;
            }
        }
    }

    /** The reason a plaintext alert from the client gives, from the closed list of {@link Handshakes}, or null. */
    String reason() {
        return description < 0 ? null : Handshakes.alertReason(description);
    }
}
