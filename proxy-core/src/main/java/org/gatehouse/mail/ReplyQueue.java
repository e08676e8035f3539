package org.gatehouse.mail;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * What a session's client is owed, in the order it asked: the commands the backend must answer, and the gateway's own
 * answers (and acts) waiting behind them, so that a pipelining client gets its replies in order.
 */
final class ReplyQueue {

    /** A reply (or act) of the gateway's own, waiting for the replies to earlier commands. */
    private record Local(Runnable action) {
    }

    private final ArrayDeque<Object> queue = new ArrayDeque<>();

    void expect(Object command) {
        queue.add(command);
    }

    /** The oldest command still waiting for its backend reply, or null. */
    Object head() {
        for (Object o : queue) {
            if (!(o instanceof Local)) {
                return o;
            }
        }
        return null;
    }

    /** The waiting commands, oldest first. */
    Iterable<Object> waiting() {
        return () -> queue.stream().filter(o -> !(o instanceof Local)).iterator();
    }

    /** The backend has answered {@code command}. */
    void remove(Object command) {
        for (Iterator<Object> it = queue.iterator(); it.hasNext();) {
            if (it.next() == command) {
                it.remove();
                break;
            }
        }
    }

    void later(Runnable action) {
        queue.add(new Local(action));
    }

    /** Runs the gateway's answers that no backend reply waits before, until {@code stopped} says otherwise. */
    void runReady(java.util.function.BooleanSupplier stopped) {
        while (!stopped.getAsBoolean() && queue.peek() instanceof Local local) {
            queue.poll();
            local.action().run();
        }
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    void clear() {
        queue.clear();
    }
}
