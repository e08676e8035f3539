package org.gatehouse.demo;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.gatehouse.session.Transport;
import org.gatehouse.testing.LogCapture;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The warm-up's sessions over real loopback sockets and TLS, and what it leaves behind: nothing in the log. */
class WarmupTest {

    @Test
    void everySessionCompletesAndThePrivateGatewayLogsNothing() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level before = root.getLevel();
        LogCapture.clear();

        Warmup.Result result = Warmup.run(12, Transport.detect());

        assertThat(result.completed()).isEqualTo(12);
        assertThat(result.failed()).isZero();
        assertThat(root.getLevel()).as("the log level is given back").isEqualTo(before);
        assertThat(LogCapture.lines()).as("no access, listening or certificate line of the private gateway")
                .noneMatch(l -> l.contains("warmup") || l.startsWith("gatehouse.access "));
    }

    @Test
    void noSessionsMeansNothingStartsAndTheCountIsBounded() throws Exception {
        assertThat(Warmup.run(0, Transport.detect())).isEqualTo(new Warmup.Result(0, 0, 0));
        assertThat(Warmup.run(-5, Transport.detect())).isEqualTo(new Warmup.Result(0, 0, 0));
        assertThat(Warmup.MAX_SESSIONS).isEqualTo(10_000);
    }
}
