package org.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

/** The leak check itself must be able to fail, or it guards nothing. */
class LeakCheckExtensionTest {

    @Test
    void aLeakedBufferFailsTheCheck() {
        leakOneBuffer();
        LeakCheckExtension check = new LeakCheckExtension();
        assertThatThrownBy(() -> check.afterAll(null)).isInstanceOf(AssertionError.class).hasMessageContaining("LEAK:");
        assertThat(LeakReports.drain()).isEmpty();
    }

    private static void leakOneBuffer() {
        ByteBufAllocator.DEFAULT.directBuffer(64).writeLong(42); // never released, on purpose
    }
}
