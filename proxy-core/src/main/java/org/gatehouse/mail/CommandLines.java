package org.gatehouse.mail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/** Lines as the inspectors read them: their text, and whether servers could cut them into commands differently. */
final class CommandLines {

    private CommandLines() {
    }

    /**
     * Why servers could cut {@code line} into commands differently, or null when they cannot: a CR that is not part
     * of the CRLF ending ends a line for some servers and not for others, and a NUL ends the line for a server written
     * in C while the rest would be read by the next one.
     */
    static String unreadable(ByteBuf line) {
        int start = line.readerIndex();
        int end = line.writerIndex() - 1; // the LF
        int crlf = end > start && line.getByte(end - 1) == '\r' ? end - 1 : end;
        int cr = line.indexOf(start, crlf, (byte) '\r');
        if (cr >= 0) {
            return "a bare CR in a command line";
        }
        return line.indexOf(start, crlf, (byte) 0) >= 0 ? "a NUL byte in a command line" : null;
    }

    /** A line ended by a bare LF, as the server gets it: with CRLF, so strict and lenient servers read one line. */
    static ByteBuf withCrlf(ByteBufAllocator alloc, ByteBuf line) {
        int end = line.writerIndex() - 1;
        if (end > line.readerIndex() && line.getByte(end - 1) == '\r') {
            return line;
        }
        ByteBuf fixed = alloc.buffer(line.readableBytes() + 1);
        fixed.writeBytes(line, line.readerIndex(), line.readableBytes() - 1).writeByte('\r').writeByte('\n');
        line.release();
        return fixed;
    }

    /** A line's text without its line ending (CRLF, or a bare LF from a lenient peer). */
    static String text(ByteBuf line) {
        int end = line.writerIndex();
        if (end > line.readerIndex() && line.getByte(end - 1) == '\n') {
            end--;
        }
        if (end > line.readerIndex() && line.getByte(end - 1) == '\r') {
            end--;
        }
        return line.toString(line.readerIndex(), end - line.readerIndex(), StandardCharsets.ISO_8859_1);
    }

    /** Whether {@code line} starts with {@code prefix}, ignoring case. */
    static boolean startsWithIgnoreCase(String line, String prefix) {
        return line.regionMatches(true, 0, prefix, 0, prefix.length());
    }
}
