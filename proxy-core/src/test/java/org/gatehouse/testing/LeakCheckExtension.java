package org.gatehouse.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Registered for every test class (junit-platform.properties turns on auto-detection): after each class, collects
 * garbage, provokes Netty's leak detector to report what it found, and fails if it reported anything.
 */
public final class LeakCheckExtension implements AfterAllCallback {

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new AssertionError("tests must run with -Dio.netty.leakDetection.level=paranoid, not "
                    + ResourceLeakDetector.getLevel());
        }
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            // Leaks are reported when a tracked buffer is allocated after the leaked one was collected.
            for (int j = 0; j < 8; j++) {
                ByteBuf probe = ByteBufAllocator.DEFAULT.directBuffer(16);
                probe.release();
                probe = ByteBufAllocator.DEFAULT.heapBuffer(16);
                probe.release();
            }
        }
        List<String> leaks = LeakReports.drain();
        if (!leaks.isEmpty()) {
            String after = context == null ? "" : " after " + context.getDisplayName();
            throw new AssertionError(leaks.size() + " buffer leak(s) reported" + after + ":\n"
                    + String.join("\n\n", leaks));
        }
    }
}
