package org.gatehouse.rules.match;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * An immutable set of addresses built from {@link AddressBlock}s, answering {@link #contains} by binary search over
 * sorted, merged ranges: O(log n) with two primitive arrays per family, whatever the number of entries.
 *
 * <p>IPv4-mapped IPv6 addresses ({@code ::ffff:192.0.2.7}, as dual-stack sockets report IPv4 clients) are matched as
 * the IPv4 address they carry.
 */
public final class AddressSet {

    private static final AddressSet EMPTY = new AddressSet(new long[0], new long[0], new long[0], new long[0],
            new long[0], new long[0]);

    // IPv4 ranges as unsigned 32-bit values in longs, sorted by start, disjoint and not adjacent.
    private final long[] v4Start;
    private final long[] v4End;
    // IPv6 ranges as (high, low) 64-bit halves compared unsigned, sorted and disjoint likewise.
    private final long[] v6StartHi;
    private final long[] v6StartLo;
    private final long[] v6EndHi;
    private final long[] v6EndLo;

    private AddressSet(long[] v4Start, long[] v4End, long[] v6StartHi, long[] v6StartLo, long[] v6EndHi,
            long[] v6EndLo) {
        this.v4Start = v4Start;
        this.v4End = v4End;
        this.v6StartHi = v6StartHi;
        this.v6StartLo = v6StartLo;
        this.v6EndHi = v6EndHi;
        this.v6EndLo = v6EndLo;
    }

    public static AddressSet empty() {
        return EMPTY;
    }

    public static AddressSet of(Collection<AddressBlock> blocks) {
        if (blocks.isEmpty()) {
            return EMPTY;
        }
        List<long[]> v4 = new ArrayList<>();
        List<long[]> v6 = new ArrayList<>();
        for (AddressBlock block : blocks) {
            byte[] first = block.first();
            byte[] last = block.last();
            if (block.isIpv4()) {
                v4.add(new long[]{v4Value(first, 0), v4Value(last, 0)});
            } else {
                v6.add(new long[]{half(first, 0), half(first, 8), half(last, 0), half(last, 8)});
            }
        }
        return build(v4, v6);
    }

    /** The union of several sets. */
    public static AddressSet union(Collection<AddressSet> sets) {
        List<long[]> v4 = new ArrayList<>();
        List<long[]> v6 = new ArrayList<>();
        for (AddressSet s : sets) {
            for (int i = 0; i < s.v4Start.length; i++) {
                v4.add(new long[]{s.v4Start[i], s.v4End[i]});
            }
            for (int i = 0; i < s.v6StartHi.length; i++) {
                v6.add(new long[]{s.v6StartHi[i], s.v6StartLo[i], s.v6EndHi[i], s.v6EndLo[i]});
            }
        }
        return build(v4, v6);
    }

    /** Sorts and merges ranges ({start, end} for IPv4, {startHi, startLo, endHi, endLo} for IPv6) into a set. */
    private static AddressSet build(List<long[]> v4, List<long[]> v6) {
        if (v4.isEmpty() && v6.isEmpty()) {
            return EMPTY;
        }
        long[][] mergedV4 = mergeV4(v4);
        long[][] mergedV6 = mergeV6(v6);
        return new AddressSet(mergedV4[0], mergedV4[1], mergedV6[0], mergedV6[1], mergedV6[2], mergedV6[3]);
    }

    public boolean isEmpty() {
        return v4Start.length == 0 && v6StartHi.length == 0;
    }

    /** The number of disjoint ranges after merging (a measure of size, not of entries written). */
    public int rangeCount() {
        return v4Start.length + v6StartHi.length;
    }

    public boolean contains(InetAddress address) {
        return contains(address.getAddress());
    }

    /** Whether the 4- or 16-byte address is in the set. */
    public boolean contains(byte[] address) {
        if (address.length == 4) {
            return containsV4(v4Value(address, 0));
        }
        if (address.length != 16) {
            return false;
        }
        if (isV4Mapped(address)) {
            return containsV4(v4Value(address, 12));
        }
        return containsV6(half(address, 0), half(address, 8));
    }

    private boolean containsV4(long value) {
        // The last range whose start is <= value, then check its end.
        int lo = 0;
        int hi = v4Start.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (v4Start[mid] <= value) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found >= 0 && value <= v4End[found];
    }

    private boolean containsV6(long valueHi, long valueLo) {
        int lo = 0;
        int hi = v6StartHi.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (compare128(v6StartHi[mid], v6StartLo[mid], valueHi, valueLo) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found >= 0 && compare128(valueHi, valueLo, v6EndHi[found], v6EndLo[found]) <= 0;
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    private static long v4Value(byte[] a, int offset) {
        return ((a[offset] & 0xffL) << 24) | ((a[offset + 1] & 0xffL) << 16) | ((a[offset + 2] & 0xffL) << 8)
                | (a[offset + 3] & 0xffL);
    }

    private static long half(byte[] a, int offset) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (a[offset + i] & 0xffL);
        }
        return v;
    }

    private static int compare128(long aHi, long aLo, long bHi, long bLo) {
        int c = Long.compareUnsigned(aHi, bHi);
        return c != 0 ? c : Long.compareUnsigned(aLo, bLo);
    }

    private static long[][] mergeV4(List<long[]> ranges) {
        ranges.sort(Comparator.comparingLong(r -> r[0]));
        long[] starts = new long[ranges.size()];
        long[] ends = new long[ranges.size()];
        int n = 0;
        for (long[] r : ranges) {
            if (n > 0 && r[0] <= ends[n - 1] + 1) {
                ends[n - 1] = Math.max(ends[n - 1], r[1]);
            } else {
                starts[n] = r[0];
                ends[n] = r[1];
                n++;
            }
        }
        return new long[][]{Arrays.copyOf(starts, n), Arrays.copyOf(ends, n)};
    }

    private static long[][] mergeV6(List<long[]> ranges) {
        ranges.sort((a, b) -> compare128(a[0], a[1], b[0], b[1]));
        long[] sHi = new long[ranges.size()];
        long[] sLo = new long[ranges.size()];
        long[] eHi = new long[ranges.size()];
        long[] eLo = new long[ranges.size()];
        int n = 0;
        for (long[] r : ranges) {
            if (n > 0 && touches(eHi[n - 1], eLo[n - 1], r[0], r[1])) {
                if (compare128(r[2], r[3], eHi[n - 1], eLo[n - 1]) > 0) {
                    eHi[n - 1] = r[2];
                    eLo[n - 1] = r[3];
                }
            } else {
                sHi[n] = r[0];
                sLo[n] = r[1];
                eHi[n] = r[2];
                eLo[n] = r[3];
                n++;
            }
        }
        return new long[][]{Arrays.copyOf(sHi, n), Arrays.copyOf(sLo, n), Arrays.copyOf(eHi, n), Arrays.copyOf(eLo, n)};
    }

    /** Whether a range starting at (sHi, sLo) overlaps or directly follows one ending at (eHi, eLo). */
    private static boolean touches(long eHi, long eLo, long sHi, long sLo) {
        if (compare128(sHi, sLo, eHi, eLo) <= 0) {
            return true;
        }
        // end + 1, carrying into the high half; the all-ones end was handled above.
        long nextLo = eLo + 1;
        long nextHi = nextLo == 0 ? eHi + 1 : eHi;
        return nextHi == sHi && nextLo == sLo;
    }

    /** Whether both sets hold exactly the same addresses. */
    @Override
    public boolean equals(Object o) {
        return o instanceof AddressSet other && Arrays.equals(v4Start, other.v4Start)
                && Arrays.equals(v4End, other.v4End)
                && Arrays.equals(v6StartHi, other.v6StartHi) && Arrays.equals(v6StartLo, other.v6StartLo)
                && Arrays.equals(v6EndHi, other.v6EndHi) && Arrays.equals(v6EndLo, other.v6EndLo);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(v4Start) + Arrays.hashCode(v6StartLo);
    }
}
