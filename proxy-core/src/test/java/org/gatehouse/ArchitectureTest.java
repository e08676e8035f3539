package org.gatehouse;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The gateway's packages in one direction, lowest first, as drawn in the proxy-core README: a package may use the ones
 * before it in {@link #LAYERS} (and publishing-rules), never one after it; and no two packages use each other.
 */
class ArchitectureTest {

    /** Lowest first: shared vocabulary at the bottom, the command line at the top. */
    static final List<String> LAYERS = List.of(
            "metrics", // Micrometer meters
            "log", // the access log, logfmt, escaping client text, once-per-interval lines
            "dns", // reverse lookups and their cache
            "session", // one connection's record and the words every stage shares (pipeline names, replies, events)
            "tls", // certificates, contexts, the handshake's outcome
            "protection", // account protection: login outcomes counted, tarpit delays, blocks, their store
            "login", // the login policy and its report
            "proxy", // the PROXY protocol, read and sent
            "backend", // pools and health checks
            "mail", // the POP3/IMAP/SMTP inspectors
            "access", // the access gate and connection limits
            "relay", // backend connection and byte relay
            "frontend", // a client connection's pipeline, and the snapshot it reads
            "gateway", // listeners, the swap, reload
            "acme", // ACME certificates: issue, renew, answer challenges
            "admin", // the HTTP endpoint
            "service", // gateway, reloader and admin endpoint run as one
            "demo", // the built-in demo mail server
            "cli"); // the gatehouse command

    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("org.gatehouse");

    @Test
    void everyPackageIsInALayer() {
        String[] known = Stream.concat(LAYERS.stream(), Stream.of("rules"))
                .map(l -> "org.gatehouse." + l + "..").toArray(String[]::new);
        assertHolds(classes().that().resideInAPackage("org.gatehouse..").should().resideInAnyPackage(known)
                .because("every package of the gateway has its place in LAYERS"));
    }

    @Test
    void noPackageUsesOneAboveIt() {
        for (int i = 0; i < LAYERS.size(); i++) {
            String[] above = LAYERS.subList(i + 1, LAYERS.size()).stream().map(l -> "org.gatehouse." + l + "..")
                    .toArray(String[]::new);
            if (above.length == 0) {
                continue;
            }
            assertHolds(noClasses().that().resideInAPackage("org.gatehouse." + LAYERS.get(i) + "..")
                    .should().dependOnClassesThat().resideInAnyPackage(above)
                    .because(LAYERS.get(i) + " is below " + String.join(", ", LAYERS.subList(i + 1, LAYERS.size()))));
        }
    }

    @Test
    void packagesAreFreeOfCycles() {
        assertHolds(slices().matching("org.gatehouse.(*)..").should().beFreeOfCycles());
    }

    /** The rule's violations, each with where it is, must be none. */
    private static void assertHolds(ArchRule rule) {
        assertThat(rule.evaluate(CLASSES).getFailureReport().getDetails()).as(rule.getDescription()).isEmpty();
    }
}
