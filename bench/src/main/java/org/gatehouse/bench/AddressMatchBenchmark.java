package org.gatehouse.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** One client address against an allow list of 100,000 entries (single addresses and /24 blocks, IPv4 and IPv6). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AddressMatchBenchmark {

    private static final int ENTRIES = 100_000;
    private static final int PROBES = 4096;

    private AddressSet set;
    private byte[][] probes;
    private int next;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(42);
        List<AddressBlock> blocks = new ArrayList<>(ENTRIES);
        for (int i = 0; i < ENTRIES; i++) {
            int a = 1 + random.nextInt(222);
            int b = random.nextInt(256);
            int c = random.nextInt(256);
            if (i % 10 == 9) {
                blocks.add(AddressBlock
                        .parse("2001:db8:" + Integer.toHexString(i >> 16) + ":" + Integer.toHexString(i & 0xffff)
                                + "::/64"));
            } else if (i % 2 == 0) {
                blocks.add(AddressBlock.parse(a + "." + b + "." + c + ".0/24"));
            } else {
                blocks.add(AddressBlock.parse(a + "." + b + "." + c + "." + random.nextInt(256)));
            }
        }
        set = AddressSet.of(blocks);
        probes = new byte[PROBES][];
        for (int i = 0; i < PROBES; i++) {
            probes[i] = new byte[]{(byte) (1 + random.nextInt(222)), (byte) random.nextInt(256),
                    (byte) random.nextInt(256), (byte) random.nextInt(256)};
        }
    }

    @Benchmark
    public boolean contains() {
        return set.contains(probes[next++ & (PROBES - 1)]);
    }
}
