package org.gatehouse.protection;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;

/** Account protection's meters: rule and fixed words as tags, never an address or a user. */
final class ProtectionMeters {

    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    /** The login counters by rule, then by result: every login counts one, without building a key. */
    private final Map<String, Counter[]> logins = new ConcurrentHashMap<>();

    ProtectionMeters(MeterRegistry registry, AtomicInteger tarpitted, ToDoubleFunction<Block.Kind> activeBlocks) {
        this.registry = registry;
        Gauge.builder("gatehouse.protection.tarpit.active", tarpitted, AtomicInteger::get)
                .description("Login failure replies held by the tarpit now").register(registry);
        for (Block.Kind kind : Block.Kind.values()) {
            Gauge.builder("gatehouse.protection.blocks.active", kind, activeBlocks)
                    .description("Blocks in force now, by kind").tag("kind", kind.label()).register(registry);
        }
    }

    /** A login's result; {@code gatehouse_logins_total{rule,result}}. */
    void login(String rule, LoginResult result) {
        Counter[] byResult = logins.computeIfAbsent(rule, r -> new Counter[LoginResult.values().length]);
        Counter counter = byResult[result.ordinal()];
        if (counter == null) { // a race registers twice: Micrometer gives back the same counter
            counter = Counter.builder("gatehouse.logins").description("Login attempts by result (success, "
                    + "bad-credentials, temporary-failure, other-failure, refused)").tags("rule", rule, "result",
                            result.label())
                    .register(registry);
            byResult[result.ordinal()] = counter;
        }
        counter.increment();
    }

    void block(String rule, Block.Kind kind, String reason) {
        count("gatehouse.protection.blocks", "Blocks set, by kind and reason", "rule", rule, "kind", kind.label(),
                "reason", reason);
    }

    void refused(String rule, String reason) {
        count("gatehouse.protection.refused", "Connections and logins refused by account protection, by reason",
                "rule", rule, "reason", reason);
    }

    void tarpitted(String rule) {
        count("gatehouse.protection.tarpitted", "Login failure replies delayed by the tarpit", "rule", rule);
    }

    void tarpitFull(String rule) {
        count("gatehouse.protection.tarpit.overflow",
                "Failure replies sent at once and the connection closed, the tarpit holding its most", "rule", rule);
    }

    /** In report mode: what enforce would have done. */
    void reported(String rule, String action) {
        count("gatehouse.protection.reported", "What enforce mode would have done, in report mode", "rule", rule,
                "action", action);
    }

    void storeError(String operation) {
        count("gatehouse.protection.store.errors", "Shared store operations that failed", "operation", operation);
    }

    private void count(String name, String description, String... tags) {
        String key = name + String.join("\0", tags);
        counters.computeIfAbsent(key, k -> Counter.builder(name).description(description).tags(tags)
                .register(registry)).increment();
    }
}
