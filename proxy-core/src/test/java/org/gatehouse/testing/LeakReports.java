package org.gatehouse.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;

/**
 * A Logback appender that keeps Netty's leak reports, so that {@link LeakCheckExtension} can fail the build on them,
 * and prints each one itself (logback-test.xml gives Netty's leak logger no other appender). The one leak made on
 * purpose, by {@link LeakCheckExtensionTest}, is printed as one line saying so instead of a stack trace that reads like
 * a failure; a report is taken for that one only when its allocation record names the method that leaks on purpose.
 */
public final class LeakReports extends AppenderBase<ILoggingEvent> {

    /** The method that leaks on purpose: its name appears in the access records of its buffer's report. */
    static final String DELIBERATE = LeakCheckExtensionTest.class.getSimpleName() + ".leakOneBufferOnPurpose";

    private static final List<String> REPORTS = new ArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        String message = event.getFormattedMessage();
        if (!message.contains("LEAK:")) {
            return;
        }
        synchronized (REPORTS) {
            REPORTS.add(message);
        }
        if (message.contains(DELIBERATE)) {
            System.out.println("[leak self-test] the buffer " + DELIBERATE + " leaked on purpose was reported, as "
                    + "it must be: the leak check works (not a failure)");
        } else {
            System.err.println("BUFFER LEAK (the leak check fails the test class): " + message);
        }
    }

    /** The reports since the last call, cleared. */
    static List<String> drain() {
        synchronized (REPORTS) {
            List<String> out = new ArrayList<>(REPORTS);
            REPORTS.clear();
            return out;
        }
    }
}
