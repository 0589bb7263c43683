package dev.handoff.core;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * A Server-Sent Events stream to one client. Any thread may send; sends never block: they queue the
 * event's encoded bytes and return. The returned stage completes when the container no longer needs the
 * bytes (it copied them, as Tomcat does, or, where it sends from them as Jetty does, it is ready for more):
 * producers that want backpressure wait on it, and the next send then goes at the client's pace. It fails if
 * the bytes were discarded (see {@link OverflowPolicy}) or the stream ended first. A send to a stream that has ended throws {@link StreamClosedException}.
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
