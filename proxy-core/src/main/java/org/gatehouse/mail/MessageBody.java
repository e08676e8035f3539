package org.gatehouse.mail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ByteProcessor;
import java.util.function.Consumer;

/**
 * Reads an SMTP message (after DATA's 354) up to its end, CRLF "." CRLF, and makes sure the server reads the same end:
 * a bare CR or LF, where servers disagree about lines and so about where the message ends (SMTP smuggling), is either
 * refused or rewritten to CRLF. After a rewrite the gateway reads the line as the server will, so a "." between
 * rewritten line endings ends the message for both. Keeps its state across buffers; the byte after a CR that ends a
 * buffer is awaited before the CR is passed on.
 */
final class MessageBody {

    /** What a call to {@link #read} found. */
    enum Step {
        /** The message goes on past the bytes given. */
        MORE,
        /** The message ended: the bytes after it are commands. */
        END,
        /** A bare CR or LF, refused: nothing from it on was passed on. */
        BARE_LINE_ENDING
    }

    private static final byte[] CRLF = {'\r', '\n'};

    private final boolean normalize;
    /** Bytes in the current line so far, saturating. */
    private int lineLength;
    /** Whether the current line so far is ".". */
    private boolean dot;
    private long rewritten;

    /**
     * @param normalize rewrite bare line endings to CRLF (true), or refuse the message at the first one (false)
     */
    MessageBody(boolean normalize) {
        this.normalize = normalize;
    }

    /**
     * Passes the message's bytes in {@code in} to {@code forward} (retained slices and, when rewriting, CRLFs) up to
     * the end of the message or of the bytes, and consumes them; a CR last in {@code in} stays unread.
     */
    Step read(ByteBuf in, Consumer<ByteBuf> forward) {
        while (in.isReadable()) {
            int from = in.readerIndex();
            int at = in.forEachByte(from, in.readableBytes(), ByteProcessor.FIND_CRLF);
            int textEnd = at < 0 ? in.writerIndex() : at;
            if (textEnd > from) {
                text(in, from, textEnd);
            }
            if (at < 0) {
                forward.accept(in.readRetainedSlice(in.readableBytes()));
                return Step.MORE;
            }
            if (in.getByte(at) == '\r') {
                if (at + 1 == in.writerIndex()) {
                    if (at > from) {
                        forward.accept(in.readRetainedSlice(at - from));
                    }
                    return Step.MORE; // is it CRLF? the next read tells
                }
                if (in.getByte(at + 1) == '\n') {
                    forward.accept(in.readRetainedSlice(at + 2 - from));
                    if (lineEnded()) {
                        return Step.END;
                    }
                    continue;
                }
            }
            if (at > from) {
                forward.accept(in.readRetainedSlice(at - from));
            }
            if (!normalize) {
                return Step.BARE_LINE_ENDING;
            }
            in.skipBytes(1);
            forward.accept(Unpooled.wrappedBuffer(CRLF));
            rewritten++;
            if (lineEnded()) {
                return Step.END;
            }
        }
        return Step.MORE;
    }

    /** How many bare line endings were rewritten to CRLF. */
    long rewritten() {
        return rewritten;
    }

    private void text(ByteBuf in, int from, int to) {
        dot = lineLength == 0 && to - from == 1 && in.getByte(from) == '.';
        int length = to - from;
        lineLength = lineLength > Integer.MAX_VALUE - length ? Integer.MAX_VALUE : lineLength + length;
    }

    private boolean lineEnded() {
        boolean end = dot;
        dot = false;
        lineLength = 0;
        return end;
    }
}
