package org.gatehouse.login;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The report's bounds: what a client can make it hold, whatever it calls itself. */
class PlaintextLoginsTest {

    @Test
    void entriesStopAtTheBoundAndANewNameIsNoNewEntry() {
        PlaintextLogins report = PlaintextLogins.inMemory();
        for (int i = 0; i < 1000; i++) {
            report.record("smtp", "192.0.2.7", "-", PlaintextLogins.AUDITED, "MAIL", "host-" + i + "x".repeat(1000),
                    "");
        }
        assertThat(report.entries()).singleElement().satisfies(e -> {
            assertThat(e.count()).isEqualTo(1000);
            assertThat(e.hello()).startsWith("host-999").hasSizeLessThanOrEqualTo(256 + 3);
        });

        for (int i = 1; i < PlaintextLogins.MAX_ENTRIES; i++) { // the one above, and MAX_ENTRIES - 1 more
            report.record("smtp", "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255), "-",
                    PlaintextLogins.AUDITED, "MAIL", "", "");
        }
        report.record("smtp", "198.51.100.1", "-", PlaintextLogins.AUDITED, "MAIL", "", "");
        assertThat(report.entries()).hasSize(PlaintextLogins.MAX_ENTRIES)
                .noneMatch(e -> e.client().equals("198.51.100.1"));
    }
}
