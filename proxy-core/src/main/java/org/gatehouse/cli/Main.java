package org.gatehouse.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code gatehouse}: publish plaintext mail servers over TLS. */
@Command(name = "gatehouse", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Publishes plaintext POP3, IMAP and SMTP servers over TLS, to the clients a rules file allows.", subcommands = {
        RunCommand.class, CheckCommand.class, DemoCommand.class, PlaintextLoginsCommand.class, BlocksCommand.class,
        CertCommand.class, WarmupCommand.class,
        CommandLine.HelpCommand.class})
public final class Main {

    /** Exit status: the rules file has problems. */
    static final int EXIT_INVALID_RULES = 1;
    /** Exit status: the rules are valid but the gateway could not start (a port in use, say). */
    static final int EXIT_START_FAILED = 2;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    /** {@code gatehouse 0.1.0 (commit 1a2b3c4d5e, built 2026-12-03T13:02:20Z)}, from the build's build.properties. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties build = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("build.properties")) {
                if (in != null) {
                    build.load(in);
                }
            } catch (IOException e) {
                // described as unknown below
            }
            String commit = known(build.getProperty("commit"));
            return new String[]{"gatehouse " + known(build.getProperty("version")) + " (commit " + commit
                    + ("1".equals(build.getProperty("dirty")) ? " with uncommitted changes" : "") + ", built "
                    + known(build.getProperty("date")) + ")",
                    "Java " + System.getProperty("java.version")
                            + " (" + System.getProperty("java.vendor") + ")"};
        }

        /** A property the build filled in, or "unknown" (no git repository where it was built, say). */
        private static String known(String value) {
            return value == null || value.isBlank() || value.contains("${") ? "unknown" : value;
        }
    }
}
