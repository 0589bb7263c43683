package dev.handoff.core;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * A Server-Sent Events stream to one client. Any thread may send; sends never block: they queue the
 * event's encoded bytes and return. The returned stage completes when the container took the bytes
 * (producers that want backpressure wait on it) and fails if they were discarded (see
 * {@link OverflowPolicy}). A send to a stream that has ended throws {@link StreamClosedException}.
 *
 * <p>While open, the stream sends a heartbeat comment when nothing was sent for the heartbeat interval
 * (see {@link StreamOptions#withHeartbeat}); that is also how a client that vanished is noticed.
 */
public interface SseStream extends StreamHandle {

    /** Queues {@code event}; the same event may be sent to any number of streams, encoded once. */
    CompletionStage<Void> send(SseEvent event);

    /** Queues an event with only data. */
    default CompletionStage<Void> send(String data) {
        return send(SseEvent.of(data));
    }

    /** Queues a comment line, which clients ignore. */
    CompletionStage<Void> comment(String text);

    /**
     * The {@code Last-Event-ID} the client sent when it reconnected, validated (bounded length, no control
     * characters, decoded as UTF-8), or empty on a first connection.
     */
    Optional<String> lastEventId();
}
