package org.gatehouse.rules.match;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IpLiteralTest {

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "127.0.0.1", "255.255.255.255", "192.0.2.7", "::", "::1", "2001:db8::",
            "2001:db8::1", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "1::8", "1:2:3:4:5:6:7::", "::ffff:192.0.2.1",
            "64:ff9b::192.0.2.33", "1:2:3:4:5:6:192.0.2.1", "ABCD:ef01::"})
    void parsesWhatTheJdkParses(String text) throws Exception {
        byte[] jdk = InetAddress.getByName(text).getAddress();
        assertThat(IpLiteral.parse(text)).hasValueSatisfying(
                bytes -> assertThat(bytes).isEqualTo(jdk.length == bytes.length ? jdk : mapped(jdk)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "10.0.0.256", "01.2.3.4", "1..2.3", "a.b.c.d",
            "mail.example.com", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1::", "12345::", "g::1", "::1%eth0", "1:2:3:4:5:6:7",
            "::192.0.2.1:1", "1.2.3.4::", " 1.2.3.4"})
    void refusesWhatIsNotALiteral(String text) {
        assertThat(IpLiteral.parse(text)).isEmpty();
    }

    /** The JDK turns ::ffff:a.b.c.d into an IPv4 address; we keep the 16 bytes as written. */
    private static byte[] mapped(byte[] v4) {
        byte[] out = new byte[16];
        out[10] = (byte) 0xff;
        out[11] = (byte) 0xff;
        System.arraycopy(v4, 0, out, 12, 4);
        return out;
    }
}
