package org.gatehouse.rules.load;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads the files the rules name (the rules file itself, certificates, keys, PKCS#12 files, passphrase files) with a
 * bound on their size, so that a rules file pointing at a huge file (or at a device that never ends) is refused with an
 * error naming it, instead of filling the heap. The bound is checked before reading and again while reading, since a
 * file may grow in between; only regular files are read.
 */
public final class BoundedFile {

    /** The most a rules file may hold (the YAML reader is set to the same number of characters). */
    public static final int MAX_RULES_FILE = 4 * 1024 * 1024;
    /** The most a PEM certificate chain, private key, CA bundle or PKCS#12 file may hold. */
    public static final int MAX_CERTIFICATE_FILE = 1024 * 1024;
    /** The most a passphrase or password file may hold. */
    public static final int MAX_SECRET_FILE = 4 * 1024;

    private BoundedFile() {
    }

    /** A file over its bound; the message says by how much, and what the bound is for. */
    public static final class TooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        TooLargeException(Path file, long size, int max, String what) {
            super(file + " is " + (size < 0 ? "larger than " + size(max) : size(size)) + ", more than " + what
                    + " may be (" + size(max) + ")");
        }
    }

    /**
     * The file's bytes, if it is a regular file of at most {@code max} bytes.
     *
     * @param what what the file is, for the message: "a certificate file", "a rules file"
     * @throws TooLargeException over the bound
     * @throws IOException       unreadable, or not a regular file
     */
    public static byte[] read(Path file, int max, String what) throws IOException {
        if (!Files.isRegularFile(file)) {
            if (!Files.exists(file)) {
                throw new NoSuchFileException(file.toString());
            }
            throw new IOException(file + " is not a regular file");
        }
        long size = Files.size(file);
        if (size > max) {
            throw new TooLargeException(file, size, max, what);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(max + 1);
            if (bytes.length > max) {
                throw new TooLargeException(file, -1, max, what); // grew while being read
            }
            return bytes;
        }
    }

    /** Why {@code file} may not be read within {@code max} bytes, checked without reading it; null when it may. */
    static String tooLarge(Path file, int max, String what) {
        try {
            long size = Files.size(file);
            return size > max ? new TooLargeException(file, size, max, what).getMessage() : null;
        } catch (IOException e) {
            return null; // reported as unreadable where it is read
        }
    }

    /** 1.5 MB, 4 KiB: sizes as an operator reads them. */
    static String size(long bytes) {
        if (bytes >= 1024 * 1024) {
            return bytes % (1024 * 1024) == 0
                    ? bytes / (1024 * 1024) + " MiB"
                    : String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
        if (bytes >= 1024) {
            return bytes % 1024 == 0
                    ? bytes / 1024 + " KiB"
                    : String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        return bytes + " bytes";
    }
}
