package org.gatehouse.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/** The command line that runs {@code gatehouse} in a child JVM with the tests' classpath. */
public final class MainProcess {

    /**
     * How long a child gateway may take to print that it started: a JVM loading the whole class path on a shared,
     * loaded 2-core machine took over 10 s in CI. A bound for liveness, not a timing assertion: the wait ends at the
     * line, or at once if the process exits first.
     */
    static final long START_LIMIT_MILLIS = 90_000;

    private MainProcess() {
    }

    /** Waits for the gateway in {@code process} to log "started:"; fails early, with its output, if it exits. */
    public static void awaitStarted(Process process, Callable<String> output) throws Exception {
        long deadline = System.nanoTime() + START_LIMIT_MILLIS * 1_000_000;
        while (!output.call().contains("started: SIGHUP reloads")) {
            if (!process.isAlive()) {
                throw new AssertionError("the gateway exited (" + process.exitValue() + ") before it started:\n"
                        + output.call());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the gateway has not started after " + START_LIMIT_MILLIS / 1000 + " s:\n"
                        + output.call());
            }
            Thread.sleep(20);
        }
    }

    public static List<String> command(String... args) {
        List<String> command = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /**
     * As {@link #command}, with the class folders of the class path packed into jars in {@code dir} first, as the
     * shaded jar is in production: a class loaded from an open jar needs no new file descriptor, one read from a
     * folder does, which matters to a process that runs out of descriptors.
     */
    public static List<String> commandFromJars(Path dir, List<String> jvmOptions, String... args) throws IOException {
        List<String> classPath = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (!Files.isDirectory(path)) {
                classPath.add(entry);
                continue;
            }
            Path jar = dir.resolve("classes-" + n++ + ".jar");
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                    Stream<Path> files = Files.walk(path)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    out.putNextEntry(new JarEntry(path.relativize(file).toString().replace(File.separatorChar, '/')));
                    Files.copy(file, out);
                    out.closeEntry();
                }
            }
            classPath.add(jar.toString());
        }
        List<String> command = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", String.join(File.pathSeparator, classPath), Main.class.getName()));
        command.addAll(List.of(args));
        return command;
    }
}
