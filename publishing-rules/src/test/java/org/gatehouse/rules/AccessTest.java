package org.gatehouse.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import org.gatehouse.rules.match.AddressBlock;
import org.gatehouse.rules.match.AddressSet;
import org.gatehouse.rules.match.DomainSet;
import org.junit.jupiter.api.Test;

class AccessTest {

    private static ClientList list(String... entries) {
        return new ClientList(List.of(entries),
                AddressSet.of(List.of(entries).stream().map(AddressBlock::parse).toList()),
                DomainSet.empty());
    }

    /** A list of one client set with both addresses and domains. */
    private static ClientList set(List<String> addresses, List<String> domains) {
        return new ClientList(List.of("set"), AddressSet.of(addresses.stream().map(AddressBlock::parse).toList()),
                DomainSet.of(domains));
    }

    private static InetAddress ip(String text) throws Exception {
        return InetAddress.getByName(text);
    }

    @Test
    void denyWinsOverAllow() throws Exception {
        Access access = new Access(false, list("10.0.0.0/8"), list("10.66.0.0/16"));

        assertThat(access.decide(ip("10.1.2.3"))).isEqualTo(AccessDecision.Admitted.ALLOW_LIST);
        assertThat(access.decide(ip("10.66.1.1")))
                .isEqualTo(new AccessDecision.Denied(AccessDecision.Reason.DENY_LIST));
        assertThat(access.decide(ip("192.0.2.1")))
                .isEqualTo(new AccessDecision.Denied(AccessDecision.Reason.NOT_ALLOWED));
    }

    @Test
    void withoutAllowListAnyoneNotDeniedIsAdmitted() throws Exception {
        Access access = new Access(true, ClientList.empty(), list("192.0.2.0/24"));

        assertThat(access.decide(ip("198.51.100.1"))).isEqualTo(AccessDecision.Admitted.ANY_CLIENT);
        assertThat(access.decide(ip("2001:db8::1"))).isEqualTo(AccessDecision.Admitted.ANY_CLIENT);
        assertThat(access.decide(ip("192.0.2.9"))).isInstanceOf(AccessDecision.Denied.class);
        assertThat(Access.any().decide(ip("127.0.0.1"))).isEqualTo(AccessDecision.Admitted.ANY_CLIENT);
    }

    @Test
    void addressesOnlyNeverAskForAName() throws Exception {
        Access access = new Access(false, list("10.0.0.0/8"), list("10.66.0.0/16"));

        for (String client : List.of("10.1.2.3", "10.66.1.1", "192.0.2.1", "2001:db8::1")) {
            assertThat(access.decide(ip(client))).isNotEqualTo(AccessDecision.Pending.NAME_REQUIRED);
        }
        assertThat(access.usesDomains()).isFalse();
    }

    @Test
    void allowDomainsAreConsultedOnlyWhenTheAddressDidNotDecide() throws Exception {
        Access access = new Access(false, set(List.of("198.51.100.0/24"), List.of("contoso.com")),
                list("203.0.113.0/24"));

        assertThat(access.usesDomains()).isTrue();
        assertThat(access.decide(ip("198.51.100.7"))).isEqualTo(AccessDecision.Admitted.ALLOW_LIST);
        assertThat(access.decide(ip("203.0.113.9")))
                .isEqualTo(new AccessDecision.Denied(AccessDecision.Reason.DENY_LIST));
        assertThat(access.decide(ip("192.0.2.1"))).isEqualTo(AccessDecision.Pending.NAME_REQUIRED);

        assertThat(access.decide(ip("192.0.2.1"), List.of("mail.contoso.com")))
                .isEqualTo(AccessDecision.Admitted.ALLOW_DOMAIN);
        assertThat(access.decide(ip("192.0.2.1"), List.of("contoso.com.")))
                .isEqualTo(AccessDecision.Admitted.ALLOW_DOMAIN);
        assertThat(access.decide(ip("192.0.2.1"), List.of("notcontoso.com")))
                .isEqualTo(new AccessDecision.Denied(AccessDecision.Reason.NOT_ALLOWED));
        assertThat(access.decide(ip("192.0.2.1"), List.of()))
                .isEqualTo(new AccessDecision.Denied(AccessDecision.Reason.NOT_ALLOWED));
    }

    @Test
    void denyDomainsOverruleAnAllowedAddressSoTheyNeedALookup() throws Exception {
        Access access = new Access(false, list("10.0.0.0/8"), set(List.of(), List.of("dialup.example")));

        assertThat(access.decide(ip("10.1.1.1"))).isEqualTo(AccessDecision.Pending.NAME_REQUIRED);
        assertThat(access.decide(ip("10.1.1.1"), List.of("host-10-1-1-1.dialup.example")))
                .isEqualTo(new AccessDecision.Denied(AccessDecision.Reason.DENY_DOMAIN));
        assertThat(access.decide(ip("10.1.1.1"), List.of("mx.corp.example")))
                .isEqualTo(AccessDecision.Admitted.ALLOW_LIST);
        assertThat(access.decide(ip("192.0.2.1"), List.of("mx.corp.example")))
                .isEqualTo(new AccessDecision.Denied(AccessDecision.Reason.NOT_ALLOWED));
        assertThat(access.decide(ip("10.1.1.1"), List.of())).isEqualTo(AccessDecision.Admitted.ALLOW_LIST);
    }

    @Test
    void denyByAddressNeedsNoNameEvenWhenListsHoldDomains() throws Exception {
        Access access = new Access(true, ClientList.empty(), set(List.of("192.0.2.0/24"), List.of("spam.example")));

        assertThat(access.decide(ip("192.0.2.5")))
                .isEqualTo(new AccessDecision.Denied(AccessDecision.Reason.DENY_LIST));
        assertThat(access.decide(ip("198.51.100.5"))).isEqualTo(AccessDecision.Pending.NAME_REQUIRED);
        assertThat(access.decide(ip("198.51.100.5"), List.of())).isEqualTo(AccessDecision.Admitted.ANY_CLIENT);
        assertThat(access.decide(ip("198.51.100.5"), List.of("a.spam.example")))
                .isEqualTo(new AccessDecision.Denied(AccessDecision.Reason.DENY_DOMAIN));
    }
}
