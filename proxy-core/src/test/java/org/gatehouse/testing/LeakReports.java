package org.gatehouse.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;

/** A Logback appender that keeps Netty's leak reports, so that {@link LeakCheckExtension} can fail the build on them. */
public final class LeakReports extends AppenderBase<ILoggingEvent> {

    private static final List<String> REPORTS = new ArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        if (event.getFormattedMessage().contains("LEAK:")) {
            synchronized (REPORTS) {
                REPORTS.add(event.getFormattedMessage());
            }
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
