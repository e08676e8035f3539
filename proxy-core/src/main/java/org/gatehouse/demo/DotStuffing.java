package org.gatehouse.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** The multi-line framing POP3 and SMTP share: a leading '.' doubled, and a line with a lone '.' at the end. */
final class DotStuffing {

    private DotStuffing() {
    }

    /**
     * {@code message} (CRLF lines) stuffed and terminated; with {@code bodyLines >= 0}, only the headers and that many
     * body lines (POP3 TOP).
     */
    static ByteBuf stuff(ByteBufAllocator alloc, byte[] message, int bodyLines) {
        ByteBuf out = alloc.buffer(message.length + message.length / 64 + 8);
        boolean lineStart = true;
        boolean inBody = false;
        int bodyLinesLeft = bodyLines;
        int lineLength = 0;
        for (int i = 0; i < message.length; i++) {
            byte b = message[i];
            if (lineStart && bodyLines >= 0 && inBody && bodyLinesLeft-- <= 0) {
                break;
            }
            if (lineStart && b == '.') {
                out.writeByte('.');
            }
            out.writeByte(b);
            lineStart = b == '\n';
            if (lineStart) {
                if (lineLength <= 1) {
                    inBody = true; // the empty line that ends the headers
                }
                lineLength = 0;
            } else {
                lineLength++;
            }
        }
        if (out.writerIndex() > 0 && !lineStart) {
            out.writeBytes(new byte[] {'\r', '\n'});
        }
        out.writeBytes(new byte[] {'.', '\r', '\n'});
        return out;
    }
}
