package org.gatehouse.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.gatehouse.log.LineEncoder;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.protection.LoginResult;
import org.gatehouse.rules.ClientList;
import org.gatehouse.rules.ProtectionSettings;
import org.gatehouse.rules.ServiceSettings.AccessLogFormat;
import org.gatehouse.testing.ExternalTool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * deploy/fail2ban's filter, run by fail2ban-regex over the lines the gateway logs, written by the shipped encoder
 * ({@link LineEncoder}, named by src/main/resources/logback.xml) in both formats, as a file and as the journal shows
 * them: it finds each blocked address, IPv4 and IPv6, and nothing else: not a user block, not a report-mode line, not
 * an address a client put in its user name (with or without quotes).
 */
class Fail2banFilterTest {

    private static final Path FILTER = Path.of("..", "deploy", "fail2ban", "filter.d", "gatehouse.conf");
    private static final List<String> BLOCKED = List.of("192.0.2.1", "2001:db8::7");

    @TempDir
    Path dir;

    @Test
    void theFilterFindsEveryBlockedAddressInLogfmt() throws Exception {
        ExternalTool.require("fail2ban-regex");
        assertThat(found(AccessLogFormat.LOGFMT, UnaryOperator.identity())).isEqualTo(BLOCKED);
    }

    @Test
    void theFilterFindsEveryBlockedAddressInJson() throws Exception {
        ExternalTool.require("fail2ban-regex");
        assertThat(found(AccessLogFormat.JSON, UnaryOperator.identity())).isEqualTo(BLOCKED);
    }

    @Test
    void theFilterFindsEveryBlockedAddressInTheJournal() throws Exception {
        ExternalTool.require("fail2ban-regex");
        // fail2ban's systemd backend puts the host name, the identifier and the pid before the message
        UnaryOperator<String> journal = line -> "mail1 gatehouse[4242]: " + line;
        assertThat(found(AccessLogFormat.LOGFMT, journal)).isEqualTo(BLOCKED);
        assertThat(found(AccessLogFormat.JSON, journal)).isEqualTo(BLOCKED);
    }

    /** The addresses fail2ban-regex finds in the lines of {@link #blocks} in {@code format}, each through {@code as}. */
    private List<String> found(AccessLogFormat format, UnaryOperator<String> as) throws Exception {
        List<String> lines = new ArrayList<>();
        for (ILoggingEvent event : events()) {
            lines.add(as.apply(LineEncoder.line(event, format)) + "\n");
        }
        assertThat(lines).anyMatch(l -> l.contains("kind=user")).anyMatch(l -> l.contains("mode=report"))
                .anyMatch(l -> l.contains("198.51.100.1")).anyMatch(l -> l.contains("198.51.100.2"));
        Path log = dir.resolve("gatehouse-" + format + ".log");
        Files.writeString(log, String.join("", lines));
        ExternalTool.Result r = ExternalTool.run(List.of("fail2ban-regex", "--out", "ip", log.toString(),
                FILTER.toAbsolutePath().normalize().toString()), "", 60);
        assertThat(r.exitCode()).as(r.output()).isZero();
        return r.output().lines().toList();
    }

    /** The protection logger's events while {@link #blocks} runs. */
    private static List<ILoggingEvent> events() throws Exception {
        List<ILoggingEvent> events = new ArrayList<>();
        Logger logger = (Logger) LoggerFactory.getLogger("gatehouse.protection");
        AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                events.add(event);
            }
        };
        appender.start();
        logger.addAppender(appender);
        try {
            blocks();
        } finally {
            logger.detachAppender(appender);
        }
        return events;
    }

    private static void blocks() throws Exception {
        AccountGuard guard = AccountGuard.withClock(System::currentTimeMillis, new SimpleMeterRegistry());
        ProtectionSettings s = new ProtectionSettings(ProtectionSettings.Mode.ENFORCE, Duration.ofMinutes(30),
                Duration.ofMinutes(15), 10, 2, 5, Duration.ZERO, Duration.ZERO, 10, Duration.ofDays(1),
                ClientList.empty());
        for (String address : BLOCKED) {
            for (String user : List.of("a", "b")) {
                guard.begin(s, "imaps", InetAddress.getByName(address), user, "LOGIN")
                        .settle(LoginResult.BAD_CREDENTIALS);
            }
        }
        // user names that carry a whole address block line, bare and breaking out of the quotes: blocked as users
        List<String> injected = List.of("x client=198.51.100.1 rule=a reason=b duration_s=1",
                "q\" level=warn logger=protection event=block kind=address client=198.51.100.2 rule=a reason=b"
                        + " duration_s=1");
        for (int u = 0; u < injected.size(); u++) {
            for (int i = 1; i <= 3; i++) { // one user per address: no address block
                guard.begin(s, "imaps", InetAddress.getByName("203.0.113." + (u * 3 + i)), injected.get(u), "LOGIN")
                        .settle(LoginResult.BAD_CREDENTIALS);
            }
        }
        for (String user : List.of("c", "d")) {
            guard.begin(s.withMode(ProtectionSettings.Mode.REPORT), "imaps", InetAddress.getByName("192.0.2.9"),
                    user, "LOGIN").settle(LoginResult.BAD_CREDENTIALS);
        }
    }
}
