package org.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.session.Transport;
import org.gatehouse.tls.TlsContexts;
import org.gatehouse.tls.TlsEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransportCheckTest {

    @TempDir
    Path dir;

    @Test
    void aTransparentRuleIsRefusedWithoutTheNativeTransport() throws Exception {
        Path file = Files.writeString(dir.resolve("rules.yaml"), """
                rules:
                  - name: t
                    listen: ["127.0.0.1:0"]
                    protocol: pop3
                    tls: none
                    transparent: true
                    backend: ["127.0.0.1:110"]
                """);
        RulesSnapshot snapshot = RulesSnapshot.load(file, TlsEngine.detect(), TlsContexts.Mode.RUN);
        Transport nio = new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioSocketChannel.class,
                NioDatagramChannel.class);

        assertThatThrownBy(() -> Gateway.start(snapshot, new GatewayMetrics(new SimpleMeterRegistry()), nio))
                .isInstanceOf(GatewayException.class)
                .hasMessageContaining(
                        "rules.yaml:2:5: rule t: transparent: true needs Linux's native transport, and this "
                                + "process runs on nio");
    }
}
