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
     * Sends one event to every subscriber of {@code topic}, returning at once where the stack allows it (a
     * blocking stack returns when its loop is done). Called from one request thread at a time per batch.
     *
     * @param event the SSE event name, or null for none
     */
    void send(String topic, String event, String data);
}
