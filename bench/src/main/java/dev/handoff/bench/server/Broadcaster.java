package dev.handoff.bench.server;

/**
 * The part of the comparison contract each server implements its own way: how many streams are open, and
 * how a batch of events reaches them. The HTTP side of {@code /publish}, {@code /hello} and {@code /stats}
 * is shared ({@link ContractController}); only {@code /sse} differs per stack.
 */
public interface Broadcaster {

    /** Streams open now. */
    int subscribers();

    /**
     * Enqueues {@code count} events for every subscriber of {@code topic} and returns at once where the
     * stack allows it (a blocking stack returns when its loop is done).
     *
     * @param event the SSE event name, or null for none
     * @param body  appended to each event's data after a newline, or null
     * @return the first and last sequence numbers enqueued
     */
    long[] publish(String topic, int count, int size, String event, String body);
}
