package org.gatehouse.rules;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * How the gateway process itself is run: its admin endpoint, how long a shutdown waits for sessions, and the access
 * log's format. Changing {@code admin} takes a restart; the others apply on reload.
 *
 * @param admin               where the admin HTTP endpoint listens ({@code /metrics}, {@code /healthz},
 *                            {@code /readyz}, {@code POST /-/reload}); empty when turned off
 * @param shutdownGracePeriod how long SIGTERM lets sessions finish before closing the rest
 * @param accessLogFormat     the access line's format
 * @param readOnlyAdmin       where a second admin listener serves {@code /metrics}, {@code /healthz} and
 *                            {@code /readyz} only (never reload), for probes and scrapers off the host; empty: none
 */
public record ServiceSettings(Optional<HostPort> admin, Duration shutdownGracePeriod, AccessLogFormat accessLogFormat,
        Optional<HostPort> readOnlyAdmin) {

    public static final HostPort DEFAULT_ADMIN = new HostPort("127.0.0.1", 9102);
    public static final Duration DEFAULT_SHUTDOWN_GRACE_PERIOD = Duration.ofSeconds(30);

    public ServiceSettings {
        requireNonNull(admin, "admin");
        requireNonNull(shutdownGracePeriod, "shutdownGracePeriod");
        requireNonNull(accessLogFormat, "accessLogFormat");
        requireNonNull(readOnlyAdmin, "readOnlyAdmin");
    }

    /** The settings without a read-only admin listener. */
    public ServiceSettings(Optional<HostPort> admin, Duration shutdownGracePeriod, AccessLogFormat accessLogFormat) {
        this(admin, shutdownGracePeriod, accessLogFormat, Optional.empty());
    }

    /** The settings of a file that says nothing of them: admin on 127.0.0.1:9102, 30 s grace, logfmt. */
    public static ServiceSettings defaults() {
        return new ServiceSettings(Optional.of(DEFAULT_ADMIN), DEFAULT_SHUTDOWN_GRACE_PERIOD, AccessLogFormat.LOGFMT);
    }

    /** The access line's format. */
    public enum AccessLogFormat implements ConfigWord {
        /** {@code key=value key="quoted value"}, one line per connection. */
        LOGFMT("logfmt"),
        /** One JSON object per line, for log shippers that parse JSON. */
        JSON("json");

        private final String configName;

        AccessLogFormat(String configName) {
            this.configName = configName;
        }

        @Override
        public String configName() {
            return configName;
        }

        public static Optional<AccessLogFormat> fromConfigName(String word) {
            return ConfigWord.parse(AccessLogFormat.class, word);
        }
    }
}
