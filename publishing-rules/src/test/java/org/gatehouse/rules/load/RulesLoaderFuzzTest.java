package org.gatehouse.rules.load;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.gatehouse.rules.Problem;
import org.gatehouse.rules.PublishingRules;
import org.gatehouse.rules.RulesException;

/**
 * The rules loader under any text: it returns rules or throws {@link RulesException} with at least one problem, each
 * with a position and a message; nothing else escapes (no NullPointerException, no ClassCastException, no
 * StackOverflowError from deep YAML). Regression inputs (the example files among them) under
 * {@code RulesLoaderFuzzTestInputs/}; {@code .ci/fuzz} fuzzes it.
 */
class RulesLoaderFuzzTest {

    private static final Path FILE = Path.of("target", "fuzz", "rules.yaml").toAbsolutePath();

    @FuzzTest(maxDuration = "10s")
    void load(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        try {
            PublishingRules rules = RulesLoader.parse(text, FILE);
            assertThat(rules.rules()).isNotNull();
        } catch (RulesException e) {
            assertThat(e.problems()).isNotEmpty();
            for (Problem p : e.problems()) {
                assertThat(p.position()).isNotNull();
                assertThat(p.message()).isNotBlank();
            }
        }
    }
}
