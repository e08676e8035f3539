package org.gatehouse.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.gatehouse.rules.Backend;
import org.gatehouse.rules.HostPort;
import org.junit.jupiter.api.Test;

class BackendPoolTest {

    private final ServerState a = new ServerState(new HostPort("10.0.0.1", 110));
    private final ServerState b = new ServerState(new HostPort("10.0.0.2", 110));
    private final ServerState c = new ServerState(new HostPort("10.0.0.3", 110));

    private BackendPool pool(Backend.Balance balance) {
        Backend settings = new Backend(List.of(a.address(), b.address(), c.address()), balance,
                Backend.DEFAULT_CONNECT_TIMEOUT,
                Optional.empty(), Backend.ProxyProtocol.OFF, false);
        return new BackendPool("r", settings, List.of(a, b, c));
    }

    @Test
    void firstTriesTheServersInTheOrderWrittenSkippingThoseTakenOut() {
        BackendPool pool = pool(Backend.Balance.FIRST);
        assertThat(pool.candidates()).containsExactly(a, b, c);
        a.up(false);
        assertThat(pool.candidates()).containsExactly(b, c);
    }

    @Test
    void roundRobinStartsOneFurtherEachTimeOverHealthyServers() {
        BackendPool pool = pool(Backend.Balance.ROUND_ROBIN);
        assertThat(pool.candidates()).containsExactly(a, b, c);
        assertThat(pool.candidates()).containsExactly(b, c, a);
        assertThat(pool.candidates()).containsExactly(c, a, b);
        b.up(false);
        List<ServerState> first = pool.candidates();
        List<ServerState> second = pool.candidates();
        assertThat(first).containsExactlyInAnyOrder(a, c);
        assertThat(second).containsExactlyInAnyOrder(a, c);
        assertThat(second.get(0)).isNotEqualTo(first.get(0));
    }

    @Test
    void leastConnectionsPrefersTheServerWithFewestOpenTiesInWrittenOrder() {
        BackendPool pool = pool(Backend.Balance.LEAST_CONNECTIONS);
        pool.opened(a);
        pool.opened(a);
        pool.opened(c);
        assertThat(pool.candidates()).containsExactly(b, c, a);
        pool.closed(a);
        pool.closed(a);
        assertThat(pool.candidates()).containsExactly(a, b, c);
    }

    @Test
    void noHealthyServerMeansNoCandidate() {
        BackendPool pool = pool(Backend.Balance.ROUND_ROBIN);
        a.up(false);
        b.up(false);
        c.up(false);
        assertThat(pool.candidates()).isEmpty();
    }
}
