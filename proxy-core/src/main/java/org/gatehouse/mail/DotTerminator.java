package org.gatehouse.mail;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

/**
 * Finds the end of a dot-terminated block (POP3 multi-line replies, SMTP DATA): a line holding only ".", that is
 * CRLF "." CRLF, or "." CRLF at the very start. Strict on purpose: bare line feeds never end a block, so the gateway
 * cannot believe a message ended where the server does not (the SMTP smuggling class); a server that does is caught by
 * its early reply. Keeps its state across buffers.
 */
final class DotTerminator implements ByteProcessor {

    private static final int MID_LINE = 0;
    private static final int CR = 1;
    private static final int LINE_START = 2;
    private static final int DOT = 3;
    private static final int DOT_CR = 4;
    private static final int END = 5;

    private int state = LINE_START;

    /**
     * Scans the readable bytes; returns how many of them belong to the block, terminator included, once the end is
     * found, or -1 when the block goes on past them.
     */
    int scan(ByteBuf buf) {
        int index = buf.forEachByte(this);
        return index < 0 ? -1 : index - buf.readerIndex() + 1;
    }

    @Override
    public boolean process(byte b) {
        switch (state) {
            case CR -> state = b == '\n' ? LINE_START : b == '\r' ? CR : MID_LINE;
            case LINE_START -> state = b == '.' ? DOT : b == '\r' ? CR : MID_LINE;
            case DOT -> state = b == '\r' ? DOT_CR : MID_LINE;
            case DOT_CR -> state = b == '\n' ? END : b == '\r' ? CR : MID_LINE;
            default -> state = b == '\r' ? CR : MID_LINE;
        }
        return state != END;
    }
}
