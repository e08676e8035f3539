package org.gatehouse.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.gatehouse.rules.load.BoundedFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gatehouse cert}: prepare a certificate request, make a self-signed certificate, look at a certificate file. */
@Command(name = "cert", mixinStandardHelpOptions = true, description = "Certificates: request, self-signed, show.", subcommands = {
        CertCommand.Request.class, CertCommand.SelfSigned.class, CertCommand.Show.class})
final class CertCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** Exit status: the files could not be written or read. */
    static final int EXIT_FAILED = 1;

    /** The name, other names and key type of a new key. */
    static class NewKey {
        @Option(names = "--name", required = true, paramLabel = "HOST", description = "The name clients use, as mail.example.com; the certificate's CN and first SAN.")
        String name;

        @Option(names = "--san", paramLabel = "NAME", split = ",", description = "Further names (DNS names or IP addresses) the certificate must cover.")
        List<String> sans = new ArrayList<>();

        @Option(names = "--key", defaultValue = "ec", paramLabel = "ec|rsa", description = "The key: ec (P-256, the default) or rsa (3072 bits, for the oldest clients).")
        String keyType;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the files.")
        Path out;

        List<String> names() {
            List<String> all = new ArrayList<>(List.of(name));
            sans.stream().filter(s -> !all.contains(s)).forEach(all::add);
            return all;
        }
    }

    @Command(name = "request", mixinStandardHelpOptions = true, description = {
            "Make a new private key (mode 0600) and a certificate signing request (PKCS#10) to send to a CA.",
            "When the CA sends the certificate back, name both files under certificates: in the rules file."})
    static final class Request extends NewKey implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter printer = spec.commandLine().getOut();
            try {
                CertificateTool.Written w = CertificateTool.request(names(), keyType, out);
                printer.println("private key: " + w.key() + " (keep it here; never send it)");
                printer.println("request:     " + w.other() + " (send this to the CA)");
                printer.flush();
                return 0;
            } catch (IOException | GeneralSecurityException e) {
                return failed(spec, e);
            }
        }
    }

    @Command(name = "self-signed", mixinStandardHelpOptions = true, description = "Make a new private key (mode 0600) and a self-signed certificate: clients will warn about it.")
    static final class SelfSigned extends NewKey implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--days", defaultValue = "365", description = "How long it is valid (default: ${DEFAULT-VALUE}).")
        int days;

        @Override
        public Integer call() {
            PrintWriter printer = spec.commandLine().getOut();
            try {
                CertificateTool.Written w = CertificateTool.selfSigned(names(), keyType, days, out);
                printer.println("private key: " + w.key());
                printer.println("certificate: " + w.other());
                printer.flush();
                return 0;
            } catch (IOException | GeneralSecurityException e) {
                return failed(spec, e);
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Describe a certificate file (PEM, or PKCS#12 .pfx/.p12): subject, names, issuer, validity, "
            + "key type, and whether a private key belongs to it.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "The certificate file.")
        Path file;

        @Option(names = "--private-key", paramLabel = "KEYFILE", description = "A PEM private key to check against it.")
        Path key;

        @Option(names = "--password-file", paramLabel = "FILE", description = "The PKCS#12 file's password.")
        Path passwordFile;

        @Override
        public Integer call() {
            try {
                char[] password = passwordFile == null
                        ? null
                        : new String(BoundedFile.read(passwordFile,
                                BoundedFile.MAX_SECRET_FILE, "a password file"),
                                StandardCharsets.UTF_8).strip().toCharArray();
                CertificateTool.Shown shown = CertificateTool.show(file, password, Optional.ofNullable(passwordFile),
                        key);
                spec.commandLine().getOut().print(shown.text());
                spec.commandLine().getOut().flush();
                for (String problem : shown.problems()) {
                    spec.commandLine().getErr().println("problem: " + problem);
                }
                spec.commandLine().getErr().flush();
                return shown.problems().isEmpty() ? 0 : EXIT_FAILED;
            } catch (IOException e) {
                return failed(spec, e);
            }
        }
    }

    private static int failed(CommandSpec spec, Exception e) {
        spec.commandLine().getErr().println("cannot: " + e.getMessage());
        spec.commandLine().getErr().flush();
        return EXIT_FAILED;
    }
}
