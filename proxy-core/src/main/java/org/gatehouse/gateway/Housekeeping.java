package org.gatehouse.gateway;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.login.PlaintextLogins;

/**
 * The gateway's periodic work, on one daemon thread: saving the plaintext-login report when it changed and account
 * protection's state (its expired blocks logged as lifted), replacing TLS
 * session-ticket keys, and refreshing stapled OCSP responses, each on the snapshot current when it runs.
 */
final class Housekeeping implements AutoCloseable {

    /** How often stapled OCSP responses are looked at (each is fetched again half-way through its validity). */
    private static final long OCSP_CHECK_MINUTES = 5;
    /** How often TLS session-ticket keys are replaced (tickets under the previous key stay valid one period more). */
    private static final long TICKET_KEY_HOURS = 12;
    /** How often the plaintext-login report is written to the state directory when it changed. */
    private static final long REPORT_SAVE_SECONDS = 10;

    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gatehouse-housekeeping");
        t.setDaemon(true);
        return t;
    });

    /** @param saveProtection saves account protection's state (and drops the blocks that ran out) */
    Housekeeping(Supplier<RulesSnapshot> snapshot, PlaintextLogins report, Runnable saveProtection) {
        thread.scheduleWithFixedDelay(report::saveIfChanged, REPORT_SAVE_SECONDS, REPORT_SAVE_SECONDS,
                TimeUnit.SECONDS);
        thread.scheduleWithFixedDelay(saveProtection, REPORT_SAVE_SECONDS, REPORT_SAVE_SECONDS, TimeUnit.SECONDS);
        thread.scheduleWithFixedDelay(() -> snapshot.get().tls().rotateTicketKeys(), TICKET_KEY_HOURS, TICKET_KEY_HOURS,
                TimeUnit.HOURS);
        thread.scheduleWithFixedDelay(() -> snapshot.get().tls().refreshOcspResponses(), OCSP_CHECK_MINUTES,
                OCSP_CHECK_MINUTES, TimeUnit.MINUTES);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
