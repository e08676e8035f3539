package org.gatehouse.mail.reference;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The bytes a server received and has not read yet, and the two ways it reads them: a line, by its own idea of where a
 * line ends, or a counted run of bytes (a literal, a BDAT chunk).
 */
final class LineReader {

    /** How a server finds lines. */
    record Rules(boolean crEndsLine, boolean nulEndsLine, int cutEvery, int maxLine, boolean allCrsBeforeLf) {

        /** LF ends a line and one CR before it is dropped (Dovecot's i_stream_next_line()). */
        static Rules lfOnly(int maxLine) {
            return new Rules(false, false, 0, maxLine, false);
        }

        /**
         * LF ends a line and every CR before it is dropped (Postfix's smtp_get() with smtpd_forbid_bare_newline =
         * no: "hi\r\r\n" is "hi", ".\r\r\n" ends a message); a line is read to {@code maxLine} octets, the rest of
         * it skipped.
         */
        static Rules postfix(int maxLine) {
            return new Rules(false, false, 0, maxLine, true);
        }

        /**
         * CR, LF or CRLF ends a line, a NUL ends what the server reads of it (C strings), and a line longer than
         * {@code cutEvery} is read in pieces of that size, each a line of its own (a fixed-size read buffer).
         */
        static Rules lenient(int cutEvery) {
            return new Rules(true, true, cutEvery, 0, false);
        }
    }

    private final Rules rules;
    private byte[] pending = new byte[0];
    private int start;
    /** The last line ended with a CR: an LF right after it belongs to that line end. */
    private boolean afterCr;

    LineReader(Rules rules) {
        this.rules = rules;
    }

    void add(byte[] bytes) {
        byte[] next = new byte[pending.length - start + bytes.length];
        System.arraycopy(pending, start, next, 0, pending.length - start);
        System.arraycopy(bytes, 0, next, pending.length - start, bytes.length);
        pending = next;
        start = 0;
    }

    int available() {
        return pending.length - start;
    }

    /** What has arrived and not been read yet (a partial line), as text. */
    String unread() {
        return text(start, pending.length);
    }

    /** The next line without its ending, or null when none is complete. */
    String line() {
        if (afterCr && start < pending.length && pending[start] == '\n') {
            start++;
        }
        afterCr = false;
        int end = -1;
        for (int i = start; i < pending.length; i++) {
            if (pending[i] == '\n' || (rules.crEndsLine && pending[i] == '\r')) {
                end = i;
                break;
            }
            if (rules.cutEvery > 0 && i - start + 1 == rules.cutEvery) {
                String piece = text(start, i + 1);
                start = i + 1;
                return piece;
            }
        }
        if (end < 0) {
            return null;
        }
        int textEnd = end;
        if (pending[end] == '\n' && end > start && pending[end - 1] == '\r') {
            textEnd = end - 1;
            while (rules.allCrsBeforeLf && textEnd > start && pending[textEnd - 1] == '\r') {
                textEnd--;
            }
        }
        afterCr = pending[end] == '\r';
        String line = text(start, textEnd);
        start = end + 1;
        if (rules.nulEndsLine && line.indexOf('\0') >= 0) {
            line = line.substring(0, line.indexOf('\0'));
        }
        if (rules.maxLine > 0 && line.length() > rules.maxLine) {
            line = line.substring(0, rules.maxLine);
        }
        return line;
    }

    /** The next {@code n} bytes, or null when fewer have arrived. */
    byte[] take(long n) {
        if (afterCr && start < pending.length) {
            // The line before ended with CRLF, which is one line end: its LF is not the first byte of the data.
            if (pending[start] == '\n') {
                start++;
            }
            afterCr = false;
        }
        if (afterCr || available() < n) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(pending, start, (int) n);
        start += (int) n;
        return out.toByteArray();
    }

    private String text(int from, int to) {
        return new String(pending, from, to - from, StandardCharsets.ISO_8859_1);
    }
}
