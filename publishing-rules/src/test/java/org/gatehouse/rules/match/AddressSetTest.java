package org.gatehouse.rules.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class AddressSetTest {

    private static AddressSet setOf(String... entries) {
        return AddressSet.of(Stream.of(entries).map(AddressBlock::parse).toList());
    }

    private static byte[] ip(String text) {
        return IpLiteral.parse(text).orElseThrow();
    }

    @Test
    void matchesIpv4CidrSingleAddressAndNetmaskForm() {
        AddressSet set = setOf("10.0.0.0/8", "131.107.2.0/255.255.255.0", "192.0.2.7");

        assertThat(set.contains(ip("10.0.0.0"))).isTrue();
        assertThat(set.contains(ip("10.255.255.255"))).isTrue();
        assertThat(set.contains(ip("11.0.0.0"))).isFalse();
        assertThat(set.contains(ip("9.255.255.255"))).isFalse();
        assertThat(set.contains(ip("131.107.2.200"))).isTrue();
        assertThat(set.contains(ip("131.107.3.1"))).isFalse();
        assertThat(set.contains(ip("192.0.2.7"))).isTrue();
        assertThat(set.contains(ip("192.0.2.8"))).isFalse();
    }

    @Test
    void netmaskFormIsTheSameBlockAsThePrefixForm() {
        assertThat(AddressBlock.parse("131.107.2.0/255.255.255.0")).isEqualTo(AddressBlock.parse("131.107.2.0/24"));
        assertThat(AddressBlock.parse("10.0.0.0/255.0.0.0")).isEqualTo(AddressBlock.parse("10.0.0.0/8"));
        assertThat(AddressBlock.parse("0.0.0.0/0.0.0.0").prefixLength()).isZero();
    }

    @Test
    void matchesIpv6AndKeepsFamiliesApart() {
        AddressSet set = setOf("2001:db8::/32", "::1", "10.0.0.0/8");

        assertThat(set.contains(ip("2001:db8::1"))).isTrue();
        assertThat(set.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"))).isTrue();
        assertThat(set.contains(ip("2001:db9::"))).isFalse();
        assertThat(set.contains(ip("::1"))).isTrue();
        assertThat(set.contains(ip("::2"))).isFalse();
        // 10.0.0.1 as an IPv4-compatible (not mapped) IPv6 address is another address.
        assertThat(set.contains(ip("::10.0.0.1"))).isFalse();
    }

    @Test
    void ipv4MappedClientMatchesIpv4Entry() {
        AddressSet set = setOf("10.0.0.0/8");

        assertThat(set.contains(ip("::ffff:10.1.2.3"))).isTrue();
        assertThat(set.contains(ip("::ffff:11.1.2.3"))).isFalse();
    }

    @Test
    void wholeSpaceEdgesMatch() {
        AddressSet set = setOf("0.0.0.0/0", "::/0");

        assertThat(set.contains(ip("0.0.0.0"))).isTrue();
        assertThat(set.contains(ip("255.255.255.255"))).isTrue();
        assertThat(set.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))).isTrue();
        assertThat(set.rangeCount()).isEqualTo(2);
    }

    @Test
    void adjacentAndOverlappingBlocksMerge() {
        AddressSet set = setOf("10.0.0.0/25", "10.0.0.128/25", "10.0.0.5", "2001:db8::/33", "2001:db8:8000::/33");

        assertThat(set.rangeCount()).isEqualTo(2);
        assertThat(set.contains(ip("10.0.0.200"))).isTrue();
        assertThat(set.contains(ip("10.0.1.0"))).isFalse();
        assertThat(set.contains(ip("2001:db8:ffff::1"))).isTrue();
    }

    @Test
    void emptySetMatchesNothing() {
        assertThat(AddressSet.empty().contains(ip("127.0.0.1"))).isFalse();
        assertThat(AddressSet.empty().contains(ip("::1"))).isFalse();
    }

    @Test
    void hundredThousandEntriesMatchExactlyTheirAddresses() {
        // 100,000 scattered /32 and /128 entries: every one matches, its neighbours don't (unless also listed).
        Random random = new Random(42);
        List<AddressBlock> blocks = new ArrayList<>();
        Set<Long> v4 = new HashSet<>();
        List<byte[]> v6 = new ArrayList<>();
        while (v4.size() < 50_000) {
            long value = random.nextInt() & 0xffffffffL;
            if (v4.add(value)) {
                blocks.add(AddressBlock.parse(v4Text(value)));
            }
        }
        for (int i = 0; i < 50_000; i++) {
            byte[] a = new byte[16];
            random.nextBytes(a);
            a[0] = 0x20;
            a[15] &= (byte) 0xfe; // even, so a+1 is never listed by accident
            v6.add(a);
            blocks.add(AddressBlock.parse(IpLiteral.fromBytes(a).getHostAddress()));
        }
        AddressSet set = AddressSet.of(blocks);

        for (long value : v4) {
            assertThat(set.contains(ip(v4Text(value)))).isTrue();
            if (!v4.contains(value + 1) && value < 0xffffffffL) {
                assertThat(set.contains(ip(v4Text(value + 1)))).isFalse();
            }
        }
        for (byte[] a : v6) {
            assertThat(set.contains(a)).isTrue();
            byte[] next = a.clone();
            next[15] |= 1;
            assertThat(set.contains(next)).isFalse();
        }
    }

    @Test
    void refusesBadEntriesSayingWhatWasExpected() {
        assertThatThrownBy(() -> AddressBlock.parse("10.0.0.0/33"))
                .hasMessageContaining("\"10.0.0.0/33\" is not an address or CIDR (expected:");
        assertThatThrownBy(() -> AddressBlock.parse("2001:db8::/129"))
                .hasMessageContaining("is not an address or CIDR");
        assertThatThrownBy(() -> AddressBlock.parse("mail.example.com"))
                .hasMessageContaining("is not an address or CIDR");
        assertThatThrownBy(() -> AddressBlock.parse("10.0.0.1/8"))
                .hasMessageContaining("expected the network address, such as 10.0.0.0/8");
        assertThatThrownBy(() -> AddressBlock.parse("10.0.0.0/255.0.255.0")).hasMessageContaining("not contiguous");
        assertThatThrownBy(() -> AddressBlock.parse("2001:db8::/ffff::"))
                .hasMessageContaining("is not an address or CIDR");
    }

    private static String v4Text(long value) {
        return (value >>> 24) + "." + ((value >>> 16) & 0xff) + "." + ((value >>> 8) & 0xff) + "." + (value & 0xff);
    }
}
