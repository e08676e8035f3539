package org.gatehouse.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.gatehouse.gateway.Reloader;
import org.gatehouse.metrics.GatewayMetrics;
import org.junit.jupiter.api.Test;

/** The admin handler's decisions that real loopback sockets cannot show: a reload asked for from elsewhere. */
class AdminHandlerTest {

    private final AtomicInteger reloads = new AtomicInteger();
    private final AdminServer.Endpoints endpoints = new AdminServer.Endpoints() {
        @Override
        public Optional<GatewayMetrics.Scrape> scrape(String accept) {
            return Optional.empty();
        }

        @Override
        public Optional<String> notReady() {
            return Optional.of("2 of 3 listeners bound");
        }

        @Override
        public CompletableFuture<Reloader.Outcome> reload() {
            reloads.incrementAndGet();
            return CompletableFuture.completedFuture(new Reloader.Outcome(true, "no rule changed", List.of()));
        }
    };

    private FullHttpResponse send(HttpMethod method, String uri) {
        EmbeddedChannel ch = new EmbeddedChannel(new AdminServer.Handler(endpoints));
        try {
            ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri));
            ch.runPendingTasks();
            FullHttpResponse response = ch.readOutbound();
            return response;
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aReloadFromAClientNotOnLoopbackIsForbiddenAndNotDone() {
        FullHttpResponse response = send(HttpMethod.POST, "/-/reload");
        try {
            assertThat(response.status()).isEqualTo(HttpResponseStatus.FORBIDDEN);
            assertThat(response.content().toString(StandardCharsets.UTF_8)).contains("loopback only");
            assertThat(reloads).hasValue(0);
        } finally {
            response.release();
        }
    }

    @Test
    void notReadySaysWhy() {
        FullHttpResponse response = send(HttpMethod.GET, "/readyz");
        try {
            assertThat(response.status()).isEqualTo(HttpResponseStatus.SERVICE_UNAVAILABLE);
            assertThat(response.content().toString(StandardCharsets.UTF_8))
                    .isEqualTo("not ready: 2 of 3 listeners bound\n");
        } finally {
            response.release();
        }
    }
}
