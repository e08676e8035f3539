package org.gatehouse.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/**
 * Which SSLEngine the gateway uses: BoringSSL through netty-tcnative when it loads (faster, less garbage), else the
 * JDK's. The system property {@code gatehouse.tls.engine=jdk} forces the JDK engine. BoringSSL's contexts and engines
 * are the reference-counted kind, without finalizers; {@link TlsContexts} says who holds them.
 */
public record TlsEngine(SslProvider provider, String description) {

    public static TlsEngine detect() {
        if ("jdk".equalsIgnoreCase(System.getProperty("gatehouse.tls.engine", ""))) {
            return new TlsEngine(SslProvider.JDK, "JDK SSLEngine (forced by gatehouse.tls.engine=jdk)");
        }
        if (OpenSsl.isAvailable()) {
            return new TlsEngine(SslProvider.OPENSSL_REFCNT, "OpenSSL engine (" + OpenSsl.versionString() + ")");
        }
        Throwable cause = OpenSsl.unavailabilityCause();
        return new TlsEngine(SslProvider.JDK, "JDK SSLEngine (OpenSSL engine unavailable: "
                + (cause == null ? "unknown reason" : cause.getMessage()) + ")");
    }
}
