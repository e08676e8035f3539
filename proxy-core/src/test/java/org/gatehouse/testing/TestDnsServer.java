package org.gatehouse.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsPtrRecord;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * An authoritative-looking DNS server on 127.0.0.1 (UDP, a free port) for tests: PTR, A and AAAA records set by the
 * test, NXDOMAIN for everything else, and switches to answer SERVFAIL, to stay silent, or to hold answers until
 * released. It records every question it was asked.
 */
public final class TestDnsServer implements AutoCloseable {

    /** One question as asked: the name in lower case without the trailing dot, and the type. */
    public record Question(String name, DnsRecordType type) {
    }

    private record Held(ChannelHandlerContext ctx, DatagramDnsQuery query) {
    }

    private record Data(String text, long ttl) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    private final Map<String, List<Data>> ptr = new ConcurrentHashMap<>();
    private final Map<String, List<Data>> addresses = new ConcurrentHashMap<>();
    private final Set<String> servfail = ConcurrentHashMap.newKeySet();
    private final Set<String> silentNames = ConcurrentHashMap.newKeySet();
    private final List<Question> questions = new CopyOnWriteArrayList<>();
    private final List<Held> held = new ArrayList<>();
    private volatile boolean silent;
    private boolean holding;

    private TestDnsServer() throws InterruptedException {
        channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                new Responder());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    public static TestDnsServer start() throws InterruptedException {
        return new TestDnsServer();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** {@code 127.0.0.1:PORT}, as a rules file's {@code dns.servers} entry. */
    public String hostPort() {
        return "127.0.0.1:" + address().getPort();
    }

    /** A PTR record for {@code address} pointing at {@code name}. */
    public TestDnsServer ptr(String address, String name, long ttl) throws Exception {
        ptr.computeIfAbsent(reverseName(InetAddress.getByName(address)), k -> new CopyOnWriteArrayList<>())
                .add(new Data(name, ttl));
        return this;
    }

    /** An A or AAAA record (by the address's family) for {@code name}. */
    public TestDnsServer address(String name, String address, long ttl) {
        addresses.computeIfAbsent(key(name), k -> new CopyOnWriteArrayList<>()).add(new Data(address, ttl));
        return this;
    }

    /** Questions about {@code name} (a host name, or an address for its PTR) are answered SERVFAIL. */
    public TestDnsServer servfail(String nameOrAddress) throws Exception {
        servfail.add(keyOf(nameOrAddress));
        return this;
    }

    /** Questions about {@code name} (a host name, or an address for its PTR) are never answered. */
    public TestDnsServer silentFor(String nameOrAddress) throws Exception {
        silentNames.add(keyOf(nameOrAddress));
        return this;
    }

    /** Never answer anything (a dead resolver), or answer again. */
    public void silent(boolean silent) {
        this.silent = silent;
    }

    /** Keep answers until {@link #release()}. */
    public synchronized void hold() {
        holding = true;
    }

    public void release() {
        List<Held> toSend;
        synchronized (this) {
            holding = false;
            toSend = new ArrayList<>(held);
            held.clear();
        }
        for (Held h : toSend) {
            h.ctx().executor().execute(() -> {
                answer(h.ctx(), h.query());
                h.query().release();
            });
        }
    }

    public List<Question> questions() {
        return List.copyOf(questions);
    }

    public long count(DnsRecordType type) {
        return questions.stream().filter(q -> q.type().equals(type)).count();
    }

    private final class Responder extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        Responder() {
            super(false);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
            DnsQuestion q = query.recordAt(DnsSection.QUESTION);
            questions.add(new Question(key(q.name()), q.type()));
            if (silent || silentNames.contains(key(q.name()))) {
                query.release();
                return;
            }
            synchronized (TestDnsServer.this) {
                if (holding) {
                    held.add(new Held(ctx, query));
                    return;
                }
            }
            answer(ctx, query);
            query.release();
        }
    }

    private void answer(ChannelHandlerContext ctx, DatagramDnsQuery query) {
        DnsQuestion q = query.recordAt(DnsSection.QUESTION);
        String name = key(q.name());
        DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
        response.setRecursionAvailable(true);
        response.setRecursionDesired(query.isRecursionDesired());
        response.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(q.name(), q.type()));
        List<DnsRecord> answers = new ArrayList<>();
        boolean exists = ptr.containsKey(name) || addresses.containsKey(name);
        if (servfail.contains(name)) {
            response.setCode(DnsResponseCode.SERVFAIL);
        } else if (q.type().equals(DnsRecordType.PTR)) {
            ptr.getOrDefault(name, List.of()).forEach(
                    d -> answers.add(new DefaultDnsPtrRecord(q.name(), DnsRecord.CLASS_IN, d.ttl(), d.text() + '.')));
        } else if (q.type().equals(DnsRecordType.A) || q.type().equals(DnsRecordType.AAAA)) {
            int length = q.type().equals(DnsRecordType.A) ? 4 : 16;
            for (Data d : addresses.getOrDefault(name, List.of())) {
                byte[] bytes = parse(d.text());
                if (bytes.length == length) {
                    answers.add(new DefaultDnsRawRecord(q.name(), q.type(), d.ttl(), Unpooled.wrappedBuffer(bytes)));
                }
            }
        }
        if (!servfail.contains(name)) {
            response.setAuthoritativeAnswer(true);
            if (!exists) {
                response.setCode(DnsResponseCode.NXDOMAIN);
            }
        }
        answers.forEach(a -> response.addRecord(DnsSection.ANSWER, a));
        ctx.writeAndFlush(response);
    }

    private static byte[] parse(String address) {
        try {
            return InetAddress.getByName(address).getAddress();
        } catch (Exception e) {
            throw new IllegalArgumentException(address, e);
        }
    }

    private static String keyOf(String nameOrAddress) throws Exception {
        boolean isAddress = nameOrAddress.indexOf(':') >= 0
                || nameOrAddress.chars().allMatch(c -> c == '.' || Character.isDigit(c));
        return isAddress ? reverseName(InetAddress.getByName(nameOrAddress)) : key(nameOrAddress);
    }

    private static String key(String name) {
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        return n.toLowerCase(Locale.ROOT);
    }

    /** Written here independently of the gateway's own, so that a mistake there shows as a failed lookup. */
    private static String reverseName(InetAddress address) {
        byte[] b = address.getAddress();
        StringBuilder out = new StringBuilder();
        if (b.length == 4) {
            return String.format("%d.%d.%d.%d.in-addr.arpa", b[3] & 0xff, b[2] & 0xff, b[1] & 0xff, b[0] & 0xff);
        }
        String hex = String.format("%032x", new BigInteger(1, b));
        for (int i = hex.length() - 1; i >= 0; i--) {
            out.append(hex.charAt(i)).append('.');
        }
        return out.append("ip6.arpa").toString();
    }

    @Override
    public void close() {
        synchronized (this) {
            held.forEach(h -> h.query().release());
            held.clear();
        }
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
