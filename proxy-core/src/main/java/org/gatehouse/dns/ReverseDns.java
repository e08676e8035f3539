package org.gatehouse.dns;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.resolver.dns.UnixResolverDnsServerAddressStreamProvider;
import io.netty.util.NetUtil;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.HostPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the forward-confirmed names of client addresses, asynchronously, with a bounded cache.
 *
 * <p>A lookup asks the PTR record of the client's address, then the A (IPv4 client) or AAAA (IPv6 client) records of
 * each name it gives, and keeps the names whose records contain the client's address; see {@link ClientLookup}. All
 * DNS traffic runs on one event loop and never blocks it. The cache (Caffeine) holds at most {@code maxEntries}
 * addresses; a verified name for the shortest TTL of its records, at most {@code maxTtl}; "no name" for
 * {@code negativeTtl}; a failure not at all. Concurrent lookups of one address share one set of queries.
 *
 * <p>Meters: {@code gatehouse.dns.lookups} by {@code result} (the {@link ClientName#result()} words, plus
 * {@code cache-hit} and {@code joined} for answers from the cache or from a lookup already in flight),
 * {@code gatehouse.dns.lookup.duration} for lookups that went to DNS, {@code gatehouse.dns.cache.size}.
 */
public final class ReverseDns implements ClientNames, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger("gatehouse.dns");

    /** The shortest interval between two warnings about failing lookups; failures in between are counted in the next. */
    private static final long FAILURE_WARNING_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final String SYSTEM_RESOLV_CONF = "/etc/resolv.conf";

    /** What the cache holds for one address. */
    record Answer(ClientName name, Duration ttl) {
    }

    private final DnsSettings settings;
    private final EventLoop loop;
    private final DnsNameResolver resolver;
    private final List<InetSocketAddress> servers;
    private final AsyncCache<InetAddress, Answer> cache;
    private final MeterRegistry registry;
    private final Map<String, Counter> lookups = new ConcurrentHashMap<>();
    private final Timer duration;
    private final Ticker ticker;
    private final FailureWarnings failureWarnings;

    private ReverseDns(DnsSettings settings, EventLoop loop, Class<? extends DatagramChannel> udp,
            Class<? extends SocketChannel> tcp, MeterRegistry registry, Ticker ticker, String resolvConf) {
        this.settings = settings;
        this.loop = loop;
        this.registry = registry;
        this.ticker = ticker;
        this.failureWarnings = new FailureWarnings(ticker);
        List<InetSocketAddress> found = new ArrayList<>();
        DnsServerAddressStreamProvider provider = nameServers(settings, resolvConf, found);
        this.servers = List.copyOf(found);
        this.resolver = provider == null
                ? null
                : new DnsNameResolverBuilder(loop)
                        .datagramChannelType(udp)
                        .socketChannelType(tcp) // retried over TCP when a UDP answer comes back truncated
                        .nameServerProvider(provider)
                        .queryTimeoutMillis(queryTimeout(settings.timeout(), servers.size()).toMillis())
                        .recursionDesired(true)
                        // This class caches whole answers by the rules' TTL limits; Netty's own caches would second-guess it.
                        .resolveCache(NoopDnsCache.INSTANCE)
                        .cnameCache(NoopDnsCnameCache.INSTANCE)
                        .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
                        // Both directions come from DNS; /etc/hosts cannot vouch for a client.
                        .hostsFileEntriesResolver((host, types) -> null)
                        .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
                        .searchDomains(List.of())
                        .ndots(1)
                        .build();
        this.cache = Caffeine.newBuilder()
                .maximumSize(settings.maxEntries())
                .expireAfter(Expiry.<InetAddress, Answer>writing((address, answer) -> answer.ttl()))
                .ticker(ticker)
                .executor(Runnable::run) // eviction work is small; keep it off the common pool
                .buildAsync();
        this.duration = Timer.builder("gatehouse.dns.lookup.duration")
                .description("Reverse-DNS lookups that went to DNS (PTR and forward confirmation), by time taken")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(settings.timeout().multipliedBy(2))
                .register(registry);
        Gauge.builder("gatehouse.dns.cache.size", cache, c -> c.synchronous().estimatedSize())
                .description("Client addresses in the reverse-DNS cache, answered or in flight").register(registry);
    }

    /**
     * Starts a resolver for {@code settings} on {@code loop}. With no {@code servers} in the settings, the system's
     * resolvers are read from /etc/resolv.conf; if it names none, every lookup fails as {@code no-resolver}.
     */
    public static ReverseDns start(DnsSettings settings, EventLoop loop, Class<? extends DatagramChannel> udp,
            Class<? extends SocketChannel> tcp, MeterRegistry registry) {
        return start(settings, loop, udp, tcp, registry, Ticker.systemTicker(), SYSTEM_RESOLV_CONF);
    }

    static ReverseDns start(DnsSettings settings, EventLoop loop, Class<? extends DatagramChannel> udp,
            Class<? extends SocketChannel> tcp, MeterRegistry registry, Ticker ticker, String resolvConf) {
        ReverseDns dns = new ReverseDns(requireNonNull(settings, "settings"), requireNonNull(loop, "loop"),
                requireNonNull(udp, "udp"), requireNonNull(tcp, "tcp"), requireNonNull(registry, "registry"),
                requireNonNull(ticker, "ticker"), resolvConf);
        if (dns.resolver == null) {
            log.warn("reverse DNS has no resolver: dns.servers is empty and {} names none; every lookup fails and "
                    + "dns.onFailure={} applies", resolvConf, settings.onFailure().configName());
        } else {
            log.info("reverse DNS servers={} timeout={}ms cache_entries={} max_ttl={}s negative_ttl={}s on_failure={}",
                    dns.servers, settings.timeout().toMillis(), settings.maxEntries(), settings.maxTtl().toSeconds(),
                    settings.negativeTtl().toSeconds(), settings.onFailure().configName());
        }
        return dns;
    }

    /**
     * The resolvers to ask; {@code found} receives their addresses. Null when there are none: the system's file names
     * none, and Netty's fallback (public resolvers on the Internet) is not something a DMZ host should do unasked.
     */
    private static DnsServerAddressStreamProvider nameServers(DnsSettings settings, String resolvConf,
            List<InetSocketAddress> found) {
        if (!settings.servers().isEmpty()) {
            for (HostPort hp : settings.servers()) {
                found.add(hp.toSocketAddress());
            }
            return new SequentialDnsServerAddressStreamProvider(found);
        }
        try {
            var system = new UnixResolverDnsServerAddressStreamProvider(new File(resolvConf));
            var stream = system.nameServerAddressStream("");
            for (int i = 0; i < stream.size(); i++) {
                found.add(stream.next());
            }
            return system;
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * One query's timeout. The whole lookup (PTR, then forward) must fit in {@code timeout}; with several resolvers a
     * third each lets a lookup move on from one dead resolver to the next for both steps and still finish in time.
     */
    static Duration queryTimeout(Duration timeout, int servers) {
        return servers <= 1 ? timeout : timeout.dividedBy(3);
    }

    /** The client's name, from the cache or from DNS. The future completes on the DNS event loop or at once. */
    @Override
    public CompletableFuture<ClientName> lookup(InetAddress client) {
        requireNonNull(client, "client");
        boolean[] started = {false};
        CompletableFuture<Answer> answer = cache.get(client, (address, executor) -> {
            started[0] = true;
            return resolve(address);
        });
        if (!started[0]) {
            count(answer.isDone() ? "cache-hit" : "joined");
        }
        if (answer.isDone()) {
            return CompletableFuture.completedFuture(answer.join().name());
        }
        // Callers continue in a later task of the DNS loop, after the cache has taken in the answer and its TTL, so
        // that whatever a caller does next already sees the answer cached (or, for a failure, already gone).
        return answer.thenApplyAsync(Answer::name, loop);
    }

    private CompletableFuture<Answer> resolve(InetAddress client) {
        CompletableFuture<Answer> result = new CompletableFuture<>();
        long start = ticker.read();
        Consumer<Answer> done = answer -> {
            finished(client, answer, ticker.read() - start);
            result.complete(answer);
        };
        if (resolver == null) {
            done.accept(new Answer(ClientName.Failure.NO_RESOLVER, Duration.ZERO));
            return result;
        }
        try {
            loop.execute(() -> new ClientLookup(client, resolver, settings, done).start(loop));
        } catch (RuntimeException e) { // the loop is shutting down
            done.accept(new Answer(ClientName.Failure.ERROR, Duration.ZERO));
        }
        return result;
    }

    private void finished(InetAddress client, Answer answer, long nanos) {
        ClientName name = answer.name();
        count(name.result());
        if (name != ClientName.Failure.NO_RESOLVER) {
            duration.record(nanos, TimeUnit.NANOSECONDS);
        }
        if (name instanceof ClientName.Failure) {
            failureWarnings.failed(name.result(), servers);
        }
        if (log.isDebugEnabled()) {
            log.debug("lookup client={} result={} name={} ms={} ttl_s={}", NetUtil.toAddressString(client),
                    name.result(), describe(name), TimeUnit.NANOSECONDS.toMillis(nanos), answer.ttl().toSeconds());
        }
    }

    /** The name a log line shows: the verified one, the unconfirmed claim, or "-". */
    public static String describe(ClientName name) {
        if (name instanceof ClientName.Verified v) {
            return v.names().get(0);
        }
        if (name instanceof ClientName.NotConfirmed n) {
            return n.claimed();
        }
        return "-";
    }

    private void count(String result) {
        lookups.computeIfAbsent(result, r -> Counter.builder("gatehouse.dns.lookups")
                .description("Reverse-DNS lookups of client addresses, by result").tag("result", r).register(registry))
                .increment();
    }

    /** What the cache holds for {@code client} now, answered or not; for tests. */
    Optional<CompletableFuture<Answer>> cached(InetAddress client) {
        return Optional.ofNullable(cache.getIfPresent(client));
    }

    /** Runs pending evictions now; for tests. */
    void cleanUp() {
        cache.synchronous().cleanUp();
    }

    public DnsSettings settings() {
        return settings;
    }

    @Override
    public void close() {
        if (resolver != null) {
            loop.execute(resolver::close);
        }
    }

    /**
     * A dead resolver fails every lookup; one warning per interval with a count says so without flooding the log.
     * Thread-safe: failures are reported from the DNS event loop, but the first from whichever thread asked.
     */
    private static final class FailureWarnings {
        private final Ticker ticker;
        private long lastWarning = Long.MIN_VALUE;
        private int suppressed;

        FailureWarnings(Ticker ticker) {
            this.ticker = ticker;
        }

        synchronized void failed(String result, List<InetSocketAddress> servers) {
            long now = ticker.read();
            if (lastWarning != Long.MIN_VALUE && now - lastWarning < FAILURE_WARNING_INTERVAL_NANOS) {
                suppressed++;
                return;
            }
            log.warn("reverse DNS lookup failed result={} servers={}{}; clients whose access depends on a domain "
                    + "are decided by dns.onFailure", result, servers,
                    suppressed == 0 ? "" : " (" + suppressed + " more failures since the last warning)");
            lastWarning = now;
            suppressed = 0;
        }
    }
}
