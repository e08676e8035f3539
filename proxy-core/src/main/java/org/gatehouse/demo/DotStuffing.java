package org.gatehouse.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;

/** The multi-line framing POP3 and SMTP share: a leading '.' doubled, and a line with a lone '.' at the end. */
final class DotStuffing {

    private DotStuffing() {
    }

    /**
     * {@code message} (CRLF lines) stuffed and terminated; with {@code bodyLines >= 0}, only the headers and that many
     * body lines (POP3 TOP). Built in a plain array and wrapped once, so that a 20 MB message costs a few copies, not
     * millions of buffer calls.
     */
    static ByteBuf stuff(byte[] message, int bodyLines) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + message.length / 64 + 8);
        boolean inBody = false;
        int bodyLinesLeft = bodyLines;
        int start = 0;
        while (start < message.length) {
            int end = start;
            while (end < message.length && message[end] != '\n') {
                end++;
            }
            int next = Math.min(end + 1, message.length);
            if (bodyLines >= 0 && inBody && bodyLinesLeft-- <= 0) {
                break;
            }
            if (message[start] == '.') {
                out.write('.');
            }
            out.write(message, start, next - start);
            if (next - start <= 2 && (next - start == 1 || message[start] == '\r')) {
                inBody = true; // the empty line that ends the headers
            }
            start = next;
        }
        if (out.size() > 0 && message.length > 0 && message[Math.min(start, message.length) - 1] != '\n') {
            out.write('\r');
            out.write('\n');
        }
        out.write('.');
        out.write('\r');
        out.write('\n');
        return Unpooled.wrappedBuffer(out.toByteArray());
    }
}
