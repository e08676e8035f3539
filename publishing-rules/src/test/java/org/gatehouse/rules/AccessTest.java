package org.gatehouse.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.junit.jupiter.api.Test;

class AccessTest {

    private static ClientList list(String... entries) {
        return new ClientList(List.of(entries), AddressSet.of(List.of(entries).stream().map(AddressBlock::parse).toList()));
    }

    private static InetAddress ip(String text) throws Exception {
        return InetAddress.getByName(text);
    }

    @Test
    void denyWinsOverAllow() throws Exception {
        Access access = new Access(false, list("10.0.0.0/8"), list("10.66.0.0/16"));

        assertThat(access.decide(ip("10.1.2.3"))).isEqualTo(AccessDecision.Admitted.ALLOW_LIST);
        assertThat(access.decide(ip("10.66.1.1"))).isEqualTo(new AccessDecision.Denied(AccessDecision.Reason.DENY_LIST));
        assertThat(access.decide(ip("192.0.2.1"))).isEqualTo(new AccessDecision.Denied(AccessDecision.Reason.NOT_ALLOWED));
    }

    @Test
    void withoutAllowListAnyoneNotDeniedIsAdmitted() throws Exception {
        Access access = new Access(true, ClientList.empty(), list("192.0.2.0/24"));

        assertThat(access.decide(ip("198.51.100.1"))).isEqualTo(AccessDecision.Admitted.ANY_CLIENT);
        assertThat(access.decide(ip("2001:db8::1"))).isEqualTo(AccessDecision.Admitted.ANY_CLIENT);
        assertThat(access.decide(ip("192.0.2.9"))).isInstanceOf(AccessDecision.Denied.class);
        assertThat(Access.any().decide(ip("127.0.0.1"))).isEqualTo(AccessDecision.Admitted.ANY_CLIENT);
    }
}
