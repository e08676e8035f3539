package org.gatehouse.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Real mail clients installed on the machine (openssl, curl, swaks, python3), run as processes with a time bound. When
 * one is missing, the test is skipped with a visible message, except in CI (CI=true), where it fails: CI installs them
 * (see .ci/run), so a missing one there is a broken setup, not a reason to test less.
 */
public final class ExternalTool {

    /** What a finished process said and how it ended. */
    public record Result(int exitCode, String output) {
    }

    private ExternalTool() {
    }

    /** Skips (or in CI fails) the calling test unless {@code command} is on the PATH. */
    public static void require(String command) {
        boolean present = onPath(command);
        if (!present && "true".equals(System.getenv("CI"))) {
            fail(command + " is not installed; CI must install it (.ci/run)");
        }
        if (!present) {
            System.err.println("SKIPPED: " + command + " is not installed; install it to run the real-client tests");
        }
        Assumptions.assumeTrue(present, command + " is not installed");
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    /** Runs a command with {@code stdin} as its input; kills it after {@code timeoutSeconds}. */
    public static Result run(List<String> command, String stdin, int timeoutSeconds)
            throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
        try (OutputStream in = process.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // The tool may exit before reading all its input; its output says why.
        }
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            fail(command.get(0) + " did not finish within " + timeoutSeconds + " s; output so far:\n"
                    + output.getNow(""));
        }
        return new Result(process.exitValue(), output.join());
    }

    private static String readAll(InputStream in) {
        try (in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(output unreadable: " + e + ")";
        }
    }
}
