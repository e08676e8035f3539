package org.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

/** The leak check itself must be able to fail, or it guards nothing. */
class LeakCheckExtensionTest {

    @Test
    void aLeakedBufferFailsTheCheckWithoutALeakOnTheConsoleThatReadsLikeAFailure() throws Exception {
        LeakCheckExtension check = new LeakCheckExtension();
        check.afterAll(null); // an earlier class's leak, if any, fails here, not hidden in the one below
        LogCapture.clear();

        leakOneBufferOnPurpose();
        assertThatThrownBy(() -> check.afterAll(null)).isInstanceOf(AssertionError.class).hasMessageContaining("LEAK:")
                .hasMessageContaining(LeakReports.DELIBERATE);
        assertThat(LeakReports.drain()).isEmpty();
        // The report went to LeakReports only (labelled there as the self-test's), not to the console's log lines.
        assertThat(LogCapture.lines()).noneMatch(line -> line.contains("LEAK"));
    }

    private static void leakOneBufferOnPurpose() {
        ByteBufAllocator.DEFAULT.directBuffer(64).writeLong(42); // never released, on purpose
    }
}
