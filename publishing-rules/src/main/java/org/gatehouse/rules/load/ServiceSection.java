package org.gatehouse.rules.load;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.gatehouse.rules.HostPort;
import org.gatehouse.rules.ServiceSettings;
import org.gatehouse.rules.load.NodeReader.Item;
import org.gatehouse.rules.load.YamlNode.Entry;
import org.gatehouse.rules.load.YamlNode.MapNode;

/** Reads the gateway's own top-level settings: stateDir, admin, shutdownGracePeriod and accessLog. */
final class ServiceSection {

    private static final Set<String> ADMIN_KEYS = Set.of("listen", "enabled", "readOnlyListen");
    private static final Set<String> ACCESS_LOG_KEYS = Set.of("format");

    private final LoadContext ctx;
    private final NodeReader in;

    ServiceSection(LoadContext ctx) {
        this.ctx = ctx;
        this.in = ctx.in();
    }

    /**
     * The state folder as written, against the file's folder; {@link RulesLoader#DEFAULT_STATE_DIR} beside it if none.
     * It must be writable (or creatable): the plaintext-login report and generated certificates are kept there, and a
     * report that cannot be saved would be lost without a word.
     */
    Path stateDir(MapNode top) {
        Optional<YamlNode.Scalar> written = in.entry(top, "stateDir").flatMap(e -> in.text(e.value(), "stateDir"));
        Path dir = written.map(s -> ctx.resolve(s.text()))
                .orElse(ctx.baseDir().resolve(RulesLoader.DEFAULT_STATE_DIR));
        String why = writableProblem(dir);
        if (why != null) {
            in.problem(written.map(YamlNode.Scalar::position).orElse(top.position()), "stateDir", dir
                    + (written.isPresent() ? "" : " (the default, beside the rules file)") + " cannot be written: "
                    + why + "; the plaintext-login report and generated certificates are kept there (expected a"
                    + " folder the gateway's user may write, such as /var/lib/gatehouse)");
        }
        return dir;
    }

    /** Why a folder could not be created or written, or null if it can; never creates anything. */
    static String writableProblem(Path dir) {
        Path p = dir.toAbsolutePath();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            return "it has no existing parent folder";
        }
        if (!Files.isDirectory(p)) {
            return p + " is not a folder";
        }
        return Files.isWritable(p)
                ? null
                : p + " is not writable" + (p.equals(dir.toAbsolutePath()) ? "" : " (to create it)");
    }

    /** The service settings; null after a problem. */
    ServiceSettings read(MapNode top) {
        int before = ctx.problemCount();
        AdminListeners admin = in.entry(top, "admin").flatMap(e -> in.map(e.value(), "admin"))
                .map(this::admin).orElse(AdminListeners.DEFAULT);
        Duration grace = in.entry(top, "shutdownGracePeriod")
                .flatMap(e -> in.duration(e.value(), "shutdownGracePeriod", Duration.ZERO, Duration.ofHours(1)))
                .orElse(ServiceSettings.DEFAULT_SHUTDOWN_GRACE_PERIOD);
        ServiceSettings.AccessLogFormat format = accessLogFormat(top);
        return ctx.problemCount() > before
                ? null
                : new ServiceSettings(admin.listen(), grace, format, admin.readOnly());
    }

    /** Where the admin endpoints listen: every endpoint, and the read-only ones on a second address if asked. */
    private record AdminListeners(Optional<HostPort> listen, Optional<HostPort> readOnly) {
        static final AdminListeners DEFAULT = new AdminListeners(Optional.of(ServiceSettings.DEFAULT_ADMIN),
                Optional.empty());
        static final AdminListeners NONE = new AdminListeners(Optional.empty(), Optional.empty());
    }

    private AdminListeners admin(MapNode a) {
        in.onlyKeys(a, "admin", ADMIN_KEYS);
        boolean enabled = in.entry(a, "enabled").flatMap(e -> in.bool(e.value(), "admin.enabled")).orElse(true);
        Optional<HostPort> admin = AdminListeners.DEFAULT.listen();
        Optional<HostPort> listen = in.entry(a, "listen").flatMap(e -> in.text(e.value(), "admin.listen"))
                .flatMap(s -> ctx.listenAddress(new Item(s.text(), s.position(), "admin.listen")));
        if (listen.isPresent()) {
            admin = listen;
            InetAddress address = listen.get().literalAddress().orElseThrow();
            if (!address.isLoopbackAddress()) {
                ctx.warn(in.entry(a, "listen").orElseThrow().value().position(), "admin.listen",
                        "listens on " + listen.get() + ", not on loopback: anyone who can reach it can read /metrics"
                                + " (POST /-/reload is refused to clients not on loopback all the same)");
            }
        }
        Optional<Entry> readOnlyEntry = in.entry(a, "readOnlyListen");
        Optional<HostPort> readOnly = readOnlyEntry.flatMap(e -> in.text(e.value(), "admin.readOnlyListen"))
                .flatMap(s -> ctx.listenAddress(new Item(s.text(), s.position(), "admin.readOnlyListen")));
        if (readOnly.isPresent() && readOnly.equals(admin) && readOnly.get().port() != 0) { // port 0: two free ports
            in.problem(readOnlyEntry.orElseThrow().value().position(), "admin.readOnlyListen", readOnly.get()
                    + " is where admin.listen serves every endpoint (expected another address or port)");
        }
        if (!enabled) {
            readOnlyEntry.ifPresent(e -> ctx.warn(e.keyPosition(), "admin.readOnlyListen",
                    "is not used: admin.enabled is false, which turns off both admin listeners"));
            return AdminListeners.NONE;
        }
        return new AdminListeners(admin, readOnly);
    }

    private ServiceSettings.AccessLogFormat accessLogFormat(MapNode top) {
        ServiceSettings.AccessLogFormat format = ServiceSettings.AccessLogFormat.LOGFMT;
        Optional<MapNode> logMap = in.entry(top, "accessLog").flatMap(e -> in.map(e.value(), "accessLog"));
        if (logMap.isPresent()) {
            in.onlyKeys(logMap.get(), "accessLog", ACCESS_LOG_KEYS);
            format = in.entry(logMap.get(), "format").flatMap(e -> in.text(e.value(), "accessLog.format"))
                    .flatMap(s -> ctx.word(s, "accessLog.format",
                            ServiceSettings.AccessLogFormat.fromConfigName(s.text()),
                            "logfmt or json"))
                    .orElse(format);
        }
        return format;
    }
}
