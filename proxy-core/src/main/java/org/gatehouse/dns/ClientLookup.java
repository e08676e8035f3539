package org.gatehouse.dns;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsPtrRecord;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.resolver.dns.DnsErrorCauseException;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.gatehouse.dns.ReverseDns.Answer;
import org.gatehouse.rules.DnsSettings;
import org.gatehouse.rules.HostPort;

/**
 * One forward-confirmed reverse lookup (FCrDNS), confined to the DNS event loop: PTR for the client's address, then
 * A or AAAA (the client's own family) for each name, in parallel. A name counts only if its records contain the
 * client's address, so a PTR record written by whoever controls the client's reverse zone proves nothing by itself.
 */
final class ClientLookup {

    /** PTR names confirmed per client at most; a reverse zone listing more is not asking for a fair hearing. */
    static final int MAX_NAMES = 4;

    private final InetAddress client;
    private final DnsNameResolver resolver;
    private final DnsSettings settings;
    private final Consumer<Answer> done;
    private boolean finished;

    private ScheduledFuture<?> deadline;
    private List<String> names = List.of();
    private final List<String> confirmed = new ArrayList<>();
    private long ttlSeconds = Long.MAX_VALUE;
    private ClientName.Failure forwardFailure;
    private int pending;

    /** @param done told the answer once, on the DNS event loop */
    ClientLookup(InetAddress client, DnsNameResolver resolver, DnsSettings settings, Consumer<Answer> done) {
        this.client = client;
        this.resolver = resolver;
        this.settings = settings;
        this.done = done;
    }

    void start(EventLoop loop) {
        deadline = loop.schedule(() -> finish(ClientName.Failure.TIMEOUT, Duration.ZERO),
                settings.timeout().toNanos(), TimeUnit.NANOSECONDS);
        resolver.resolveAll(new DefaultDnsQuestion(reverseName(client), DnsRecordType.PTR)).addListener(this::onPtr);
    }

    private void onPtr(Future<? super List<DnsRecord>> f) {
        List<DnsRecord> records = records(f);
        if (finished) {
            release(records);
            return;
        }
        if (records == null) {
            ClientName failure = classify(f.cause());
            finish(failure, failure == ClientName.NoName.NXDOMAIN ? settings.negativeTtl() : Duration.ZERO);
            return;
        }
        List<String> found = new ArrayList<>();
        try {
            for (DnsRecord r : records) {
                if (r instanceof DnsPtrRecord ptr && found.size() < MAX_NAMES) {
                    String name = canonicalName(ptr.hostname());
                    if (HostPort.isHostName(name) && !found.contains(name)) {
                        found.add(name);
                        ttlSeconds = Math.min(ttlSeconds, r.timeToLive());
                    }
                }
            }
        } finally {
            release(records);
        }
        if (found.isEmpty()) {
            finish(ClientName.NoName.NXDOMAIN, settings.negativeTtl());
            return;
        }
        names = List.copyOf(found);
        pending = names.size();
        DnsRecordType type = client instanceof Inet4Address ? DnsRecordType.A : DnsRecordType.AAAA;
        for (String name : names) {
            resolver.resolveAll(new DefaultDnsQuestion(name + '.', type)).addListener(g -> onForward(name, g));
        }
    }

    private void onForward(String name, Future<? super List<DnsRecord>> f) {
        List<DnsRecord> records = records(f);
        if (finished) {
            release(records);
            return;
        }
        if (records == null) {
            ClientName why = classify(f.cause());
            if (why instanceof ClientName.Failure failure && forwardFailure == null) {
                forwardFailure = failure;
            }
        } else {
            try {
                byte[] wanted = client.getAddress();
                long matchTtl = -1;
                for (DnsRecord r : records) {
                    if (r instanceof DnsRawRecord raw && sameAddress(raw.content(), wanted)) {
                        matchTtl = matchTtl < 0 ? r.timeToLive() : Math.min(matchTtl, r.timeToLive());
                    }
                }
                if (matchTtl >= 0) {
                    confirmed.add(name);
                    ttlSeconds = Math.min(ttlSeconds, matchTtl);
                }
            } finally {
                release(records);
            }
        }
        if (--pending > 0) {
            return;
        }
        if (!confirmed.isEmpty()) {
            List<String> inPtrOrder = names.stream().filter(confirmed::contains).toList();
            Duration ttl = Duration.ofSeconds(ttlSeconds);
            finish(new ClientName.Verified(inPtrOrder), ttl.compareTo(settings.maxTtl()) > 0 ? settings.maxTtl() : ttl);
        } else if (forwardFailure != null) {
            finish(forwardFailure, Duration.ZERO);
        } else {
            finish(new ClientName.NotConfirmed(names.get(0)), settings.negativeTtl());
        }
    }

    private void finish(ClientName name, Duration ttl) {
        if (finished) {
            return;
        }
        finished = true;
        if (deadline != null) {
            deadline.cancel(false);
        }
        done.accept(new Answer(name, ttl));
    }

    @SuppressWarnings("unchecked")
    private static List<DnsRecord> records(Future<? super List<DnsRecord>> f) {
        return f.isSuccess() ? (List<DnsRecord>) f.getNow() : null;
    }

    private static void release(List<DnsRecord> records) {
        if (records != null) {
            records.forEach(ReferenceCountUtil::release);
        }
    }

    /**
     * What a failed resolution means. Netty reports "no such name" and "no such record" as failures too: those are
     * answers (no name), while a timeout or a server error says nothing about the client.
     */
    static ClientName classify(Throwable cause) {
        Throwable why = cause == null ? null : cause.getCause();
        if (cause instanceof UnknownHostException && why == null) {
            return ClientName.NoName.NXDOMAIN; // NOERROR with no record of the type asked
        }
        if (why instanceof DnsErrorCauseException dns) {
            return dns.getCode() == DnsResponseCode.NXDOMAIN ? ClientName.NoName.NXDOMAIN : ClientName.Failure.SERVFAIL;
        }
        if (DnsNameResolver.isTimeoutError(cause)) {
            return ClientName.Failure.TIMEOUT;
        }
        return ClientName.Failure.ERROR;
    }

    private static boolean sameAddress(ByteBuf content, byte[] wanted) {
        return content.readableBytes() == wanted.length
                && Arrays.equals(ByteBufUtil.getBytes(content, content.readerIndex(), wanted.length), wanted);
    }

    private static String canonicalName(String name) {
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        return n.toLowerCase(Locale.ROOT);
    }

    /** The PTR question for an address: {@code 4.3.2.1.in-addr.arpa.} or the nibbles of an IPv6 address. */
    static String reverseName(InetAddress address) {
        byte[] b = address.getAddress();
        StringBuilder name = new StringBuilder(b.length == 4 ? 30 : 74);
        if (b.length == 4) {
            for (int i = 3; i >= 0; i--) {
                name.append(b[i] & 0xff).append('.');
            }
            return name.append("in-addr.arpa.").toString();
        }
        for (int i = b.length - 1; i >= 0; i--) {
            name.append(Character.forDigit(b[i] & 0x0f, 16)).append('.')
                    .append(Character.forDigit((b[i] >> 4) & 0x0f, 16)).append('.');
        }
        return name.append("ip6.arpa.").toString();
    }
}
