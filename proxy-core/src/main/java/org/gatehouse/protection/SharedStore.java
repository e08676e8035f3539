package org.gatehouse.protection;

import java.util.function.Consumer;
import org.gatehouse.rules.ProtectionSettings;

/**
 * A store that every replica behind one load balancer shares: counts across replicas, and the blocks every replica
 * enforces. Each call returns at once; answers come back on the store's threads.
 */
interface SharedStore extends AutoCloseable {

    /** The counts across replicas after one more failure. */
    record Counts(int quarters, int users, int unfamiliar, boolean repeated) {
    }

    /**
     * Adds a failure of {@code user} from {@code address}.
     *
     * @param fingerprint the keyed fingerprint of the password tried, or 0 when there is none
     * @param unfamiliar  whether the address is not one the user logged in from
     */
    void failure(String address, String user, long fingerprint, boolean unfamiliar, ProtectionSettings s,
            Consumer<Counts> then);

    /** Remembers a successful login of {@code user} from {@code network}. */
    void success(String user, String network, ProtectionSettings s);

    /** Tells every replica of a block. */
    void publish(Block block);

    /** Lifts a block for every replica, and forgets the counts that set it off. */
    void unblock(Block.Kind kind, String key);

    /** Whether the store answered lately. */
    boolean up();

    @Override
    void close();
}
