package org.gatehouse.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code gatehouse}: publish plaintext mail servers over TLS. */
@Command(name = "gatehouse", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Publishes plaintext POP3, IMAP and SMTP servers over TLS, to the clients a rules file allows.", subcommands = {
        RunCommand.class, CheckCommand.class, DemoCommand.class, PlaintextLoginsCommand.class, BlocksCommand.class,
        CertCommand.class,
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

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"gatehouse " + (v == null ? "(development build)" : v)};
        }
    }
}
