package org.gatehouse.rules;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The module's packages point one way: {@code rules.load} reads YAML into the records of {@code rules}, which are built
 * from the matching primitives of {@code rules.match}; nothing points back, and nothing here knows Netty.
 */
class ArchitectureTest {

    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.gatehouse.rules");

    /** Each package is a slice: rules, rules.load, rules.match. */
    static final ArchRule packagesAreFreeOfCycles = slices().matching("org.gatehouse.(rules..)").should()
            .beFreeOfCycles();

    static final ArchRule matchDependsOnNothingElseInTheModule = noClasses()
            .that().resideInAPackage("org.gatehouse.rules.match..")
            .should().dependOnClassesThat(resideInAPackage("org.gatehouse..")
                    .and(not(resideInAPackage("org.gatehouse.rules.match.."))));

    /** The loader is the module's entry point: proxy-core calls it, the records and matchers never do. */
    static final ArchRule nothingElseInTheModuleUsesTheLoader = noClasses()
            .that().resideOutsideOfPackage("org.gatehouse.rules.load..")
            .should().dependOnClassesThat().resideInAPackage("org.gatehouse.rules.load..");

    static final ArchRule nothingDependsOnNetty = noClasses()
            .should().dependOnClassesThat().resideInAPackage("io.netty..");

    @Test
    void everyRuleHolds() {
        for (ArchRule rule : List.of(packagesAreFreeOfCycles, matchDependsOnNothingElseInTheModule,
                nothingElseInTheModuleUsesTheLoader, nothingDependsOnNetty)) {
            assertThat(rule.evaluate(CLASSES).getFailureReport().getDetails()).as(rule.getDescription()).isEmpty();
        }
    }
}
