package dev.handoff.test;

import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * An {@link SseStream} that records what is sent to it, for unit tests of code that writes to a stream (a service
 * that reports progress, an event source), with no server: every send completes at once, unless the stream was
 * closed, when it fails as a real one does.
 *
 * <pre>{@code
 * RecordingSseStream stream = new RecordingSseStream();
 * new ProgressReporter(stream).report(task);
 * assertEquals(List.of("10", "20", "100"), stream.data());
 * assertEquals(CloseReason.COMPLETED, stream.closeStatus().orElseThrow().reason());
 * }</pre>
 *
 * Thread-safe.
 */
public final class RecordingSseStream extends RecordingHandle implements SseStream {

    private final String lastEventId;
    private final List<SseEvent> events = new ArrayList<>();
    private final List<String> comments = new ArrayList<>();

    /** A stream whose client sent no {@code Last-Event-ID}. */
    public RecordingSseStream() {
        this(null);
    }

    /** A stream whose client sent this {@code Last-Event-ID} (a reconnect). */
    public RecordingSseStream(String lastEventId) {
        this.lastEventId = lastEventId;
    }

    @Override
    public CompletionStage<Void> send(SseEvent event) {
        return recordWrite(() -> events.add(event));
    }

    @Override
    public CompletionStage<Void> comment(String text) {
        return recordWrite(() -> comments.add(text));
    }

    /** Every event sent, in order. */
    public synchronized List<SseEvent> events() {
        return List.copyOf(events);
    }

    /** The data of every event sent, in order. */
    public synchronized List<String> data() {
        return events.stream().map(SseEvent::data).toList();
    }

    /** Every comment sent. */
    public synchronized List<String> comments() {
        return List.copyOf(comments);
    }

    @Override
    public Optional<String> lastEventId() {
        return Optional.ofNullable(lastEventId);
    }

    @Override
    public synchronized String toString() {
        return "RecordingSseStream[" + id() + ", " + events.size() + " events" + closeStatus().map(s -> ", " + s)
                .orElse("") + "]";
    }
}
