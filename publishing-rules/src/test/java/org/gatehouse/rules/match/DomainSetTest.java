package org.gatehouse.rules.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class DomainSetTest {

    @Test
    void aDomainMatchesItselfAndEveryNameUnderItOnLabelBoundaries() {
        DomainSet set = DomainSet.of(List.of("contoso.com", "partner.example"));

        assertThat(set.matches("contoso.com")).isTrue();
        assertThat(set.matches("mail.contoso.com")).isTrue();
        assertThat(set.matches("a.b.c.partner.example")).isTrue();
        assertThat(set.matches("badcontoso.com")).isFalse();
        assertThat(set.matches("contoso.com.evil.example")).isFalse();
        assertThat(set.matches("com")).isFalse();
        assertThat(set.matches("")).isFalse();
    }

    @Test
    void namesFromDnsMatchWhateverTheirCaseAndTrailingDot() {
        DomainSet set = DomainSet.of(List.of("contoso.com"));

        assertThat(set.matches("MAIL.Contoso.COM.")).isTrue();
        assertThat(set.matchesAny(List.of("x.example", "smtp.contoso.com"))).isTrue();
        assertThat(set.matchesAny(List.of())).isFalse();
    }

    @Test
    void canonicalFormIsLowerCaseAsciiWithoutTrailingDot() {
        assertThat(DomainSet.canonical("Contoso.COM.")).isEqualTo("contoso.com");
        assertThat(DomainSet.canonical("bücher.example")).isEqualTo("xn--bcher-kva.example");
    }

    @Test
    void refusesWildcardsAddressesAndNonNamesWithWhatWasExpected() {
        assertThatThrownBy(() -> DomainSet.canonical("*.contoso.com"))
                .hasMessageContaining("wildcard").hasMessageContaining("expected contoso.com");
        assertThatThrownBy(() -> DomainSet.canonical("192.0.2.0/24")).hasMessageContaining("is an address");
        assertThatThrownBy(() -> DomainSet.canonical("2001:db8::1")).hasMessageContaining("is an address");
        assertThatThrownBy(() -> DomainSet.canonical("bad_name.example")).hasMessageContaining("is not a domain name");
        assertThatThrownBy(() -> DomainSet.canonical("10.0.0.256")).hasMessageContaining("is not a domain name");
    }

    @Test
    void unionKeepsEveryDomainOnce() {
        DomainSet union = DomainSet.union(List.of(DomainSet.of(List.of("a.example", "b.example")),
                DomainSet.of(List.of("b.example")), DomainSet.empty()));

        assertThat(union.domains()).containsExactly("a.example", "b.example");
        assertThat(DomainSet.union(List.of())).isSameAs(DomainSet.empty());
    }
}
