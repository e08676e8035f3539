package org.gatehouse.rules;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The module's packages point one way: {@code rules.load} reads YAML into the records of {@code rules}, which are built
 * from the matching primitives of {@code rules.match}; nothing points back, and nothing here knows Netty.
 */
@AnalyzeClasses(packages = "org.gatehouse.rules", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    /** Each package is a slice: rules, rules.load, rules.match. */
    @ArchTest
    static final ArchRule packagesAreFreeOfCycles = slices().matching("org.gatehouse.(rules..)").should()
            .beFreeOfCycles();

    @ArchTest
    static final ArchRule matchDependsOnNothingElseInTheModule = noClasses()
            .that().resideInAPackage("org.gatehouse.rules.match..")
            .should().dependOnClassesThat(resideInAPackage("org.gatehouse..")
                    .and(not(resideInAPackage("org.gatehouse.rules.match.."))));

    /** The loader is the module's entry point: proxy-core calls it, the records and matchers never do. */
    @ArchTest
    static final ArchRule nothingElseInTheModuleUsesTheLoader = noClasses()
            .that().resideOutsideOfPackage("org.gatehouse.rules.load..")
            .should().dependOnClassesThat().resideInAPackage("org.gatehouse.rules.load..");

    @ArchTest
    static final ArchRule nothingDependsOnNetty = noClasses()
            .should().dependOnClassesThat().resideInAPackage("io.netty..");
}
