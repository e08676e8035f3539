package org.gatehouse.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;

/** Keeps every log line written during the tests (message and any stack trace), so tests can check what is logged. */
public final class LogCapture extends AppenderBase<ILoggingEvent> {

    private static final int MAX_LINES = 100_000;
    private static final List<String> LINES = new ArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(event.getLoggerName()).append(' ').append(event.getFormattedMessage());
        for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
            line.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
        }
        synchronized (LINES) {
            if (LINES.size() < MAX_LINES) {
                LINES.add(line.toString());
            }
        }
    }

    /** The lines logged since the last {@link #clear()}. */
    public static List<String> lines() {
        synchronized (LINES) {
            return new ArrayList<>(LINES);
        }
    }

    public static void clear() {
        synchronized (LINES) {
            LINES.clear();
        }
    }
}
