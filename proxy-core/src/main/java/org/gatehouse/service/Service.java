package org.gatehouse.service;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.gatehouse.acme.AcmeRenewals;
import org.gatehouse.admin.AdminServer;
import org.gatehouse.admin.StatusPage;
import org.gatehouse.frontend.RulesSnapshot;
import org.gatehouse.gateway.Gateway;
import org.gatehouse.gateway.GatewayException;
import org.gatehouse.gateway.Reloader;
import org.gatehouse.metrics.GatewayMetrics;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.session.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway as a process runs it: the {@link Gateway} itself, the {@link Reloader} that watches its rules file, and
 * the admin endpoint. {@link #shutdown()} is the graceful stop SIGTERM asks for.
 */
public final class Service implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Service.class);

    /** How long the rules folder must be quiet after a change before the file is reloaded. */
    static final Duration WATCH_QUIET_PERIOD = Duration.ofMillis(300);

    private final Gateway gateway;
    private final Reloader reloader;
    private final AdminServer admin;
    private final AdminServer readOnlyAdmin;
    private final AcmeRenewals acme;

    private Service(Gateway gateway, Reloader reloader, AdminServer admin, AdminServer readOnlyAdmin,
            AcmeRenewals acme) {
        this.gateway = gateway;
        this.reloader = reloader;
        this.admin = admin;
        this.readOnlyAdmin = readOnlyAdmin;
        this.acme = acme;
    }

    /**
     * Starts the gateway on {@code initial}, then the admin endpoint (if the rules have one) and the watch on
     * {@code file}; {@code source} loads the file again on each reload.
     */
    public static Service start(RulesSnapshot initial, Reloader.Source source, Path file, GatewayMetrics metrics,
            Transport transport) throws GatewayException {
        requireNonNull(source, "source");
        requireNonNull(file, "file");
        Gateway gateway = Gateway.start(initial, metrics, transport);
        Reloader reloader = new Reloader(gateway, source, file, metrics.registry());
        AdminServer admin = null;
        AdminServer readOnlyAdmin = null;
        AcmeRenewals acme = null;
        try {
            reloader.watch(WATCH_QUIET_PERIOD);
            acme = AcmeRenewals.start(initial.rules(), transport, () -> swapCertificates(reloader),
                    metrics.registry()).orElse(null);
            var listen = initial.rules().service().admin();
            if (listen.isPresent()) {
                AdminServer.Endpoints endpoints = endpoints(gateway, reloader, metrics);
                admin = AdminServer.start(listen.get(), transport, endpoints, false, AdminServer.Limits.DEFAULT,
                        metrics.registry());
                var readOnly = initial.rules().service().readOnlyAdmin();
                if (readOnly.isPresent()) {
                    readOnlyAdmin = AdminServer.start(readOnly.get(), transport, endpoints, true,
                            AdminServer.Limits.DEFAULT, metrics.registry());
                }
            } else {
                log.info("admin endpoint off (admin.enabled: false)");
            }
        } catch (IOException e) {
            if (admin != null) {
                admin.close();
            }
            if (acme != null) {
                acme.close();
            }
            reloader.close();
            gateway.close();
            throw new GatewayException(initial.rules().source() + ": " + e.getMessage(), e);
        }
        return new Service(gateway, reloader, admin, readOnlyAdmin, acme);
    }

    /** What the admin endpoint serves, from the running gateway, its reloader and its metrics. */
    private static AdminServer.Endpoints endpoints(Gateway gateway, Reloader reloader, GatewayMetrics metrics) {
        return new AdminServer.Endpoints() {
            @Override
            public Optional<GatewayMetrics.Scrape> scrape(String accept) {
                return metrics.scrape(accept);
            }

            @Override
            public Optional<String> notReady() {
                return gateway.notReady();
            }

            @Override
            public CompletableFuture<Reloader.Outcome> reload() {
                return reloader.request("admin");
            }

            @Override
            public AccountGuard accounts() {
                return gateway.accounts();
            }

            @Override
            public Optional<String> statusPage() {
                return Optional.of(StatusPage.render(gateway, metrics.registry(), metrics.recentRefusals(),
                        Instant.now()));
            }
        };
    }

    /** A new ACME certificate is in the state folder: the reload serves it to new handshakes. */
    private static boolean swapCertificates(Reloader reloader) {
        try {
            return reloader.request("acme").get(2, TimeUnit.MINUTES).success();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("reload for a new ACME certificate did not finish: {}", e.toString());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The ACME renewals, if any certificate in use is an {@code acme:} one. */
    public Optional<AcmeRenewals> acme() {
        return Optional.ofNullable(acme);
    }

    public Gateway gateway() {
        return gateway;
    }

    public Reloader reloader() {
        return reloader;
    }

    /** Where the admin endpoint listens, if it is on. */
    public Optional<InetSocketAddress> adminAddress() {
        return Optional.ofNullable(admin).map(AdminServer::address);
    }

    /** Where the read-only admin listener listens, if there is one. */
    public Optional<InetSocketAddress> readOnlyAdminAddress() {
        return Optional.ofNullable(readOnlyAdmin).map(AdminServer::address);
    }

    /**
     * Stops accepting on every listener, lets the sessions in progress finish for the rules' {@code shutdownGracePeriod},
     * then closes the rest and everything else.
     */
    public void shutdown() throws InterruptedException {
        Duration grace = gateway.snapshot().rules().service().shutdownGracePeriod();
        reloader.close();
        int left = gateway.drain(grace);
        if (left > 0) {
            log.info("grace period of {} s over; closing {} connection(s)", grace.toSeconds(), left);
        }
        close();
    }

    @Override
    public void close() {
        if (acme != null) {
            acme.close();
        }
        reloader.close();
        gateway.close();
        if (admin != null) {
            admin.close();
        }
        if (readOnlyAdmin != null) {
            readOnlyAdmin.close();
        }
    }
}
