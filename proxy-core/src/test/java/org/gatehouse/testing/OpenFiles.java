package org.gatehouse.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The file descriptors this process holds (Linux), for tests that show a gateway gives back what an attack took. */
public final class OpenFiles {

    private OpenFiles() {
    }

    /** How many descriptors are open now, or -1 where /proc/self/fd does not exist. */
    public static int count() {
        Path fds = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fds)) {
            return -1;
        }
        try (Stream<Path> list = Files.list(fds)) {
            return (int) list.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Waits until no more than {@code limit} descriptors are open (true at once where they cannot be counted). */
    public static void until(String what, int limit) throws InterruptedException {
        Eventually.until(what + " (at most " + limit + " open files, now " + count() + ")", () -> count() <= limit);
    }
}
