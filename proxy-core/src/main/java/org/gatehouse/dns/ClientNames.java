package org.gatehouse.dns;

import java.net.InetAddress;
import java.util.concurrent.CompletableFuture;

/** Where the access gate gets a client's name from: {@link ReverseDns}, or nothing when no rule names a domain. */
@FunctionalInterface
public interface ClientNames {

    /** For rules without domains, which never ask; answers {@code no-resolver} should anything ask anyway. */
    ClientNames NONE = client -> CompletableFuture.completedFuture(ClientName.Failure.NO_RESOLVER);

    /** The client's name; the future may complete on another thread. */
    CompletableFuture<ClientName> lookup(InetAddress client);
}
