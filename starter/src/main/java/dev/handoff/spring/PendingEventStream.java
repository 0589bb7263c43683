package dev.handoff.spring;

import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** The {@link EventStream} {@link HandoffStreams} gives a controller; attached to a real SSE stream after it returns. */
final class PendingEventStream extends PendingStream<SseStream> implements EventStream {

    private final EventDataEncoder encoder;
    /** Topics to subscribe to when attached; empty for a stream the application feeds itself. */
    final List<String> topics;

    PendingEventStream(int maxBufferedBytes, EventDataEncoder encoder, List<String> topics) {
        super(maxBufferedBytes);
        this.encoder = encoder;
        this.topics = List.copyOf(topics);
    }

    @Override
    public CompletionStage<Void> send(SseEvent event) {
        Objects.requireNonNull(event, "event");
        return submit(event.encodedLength(), s -> s.send(event));
    }

    @Override
    public CompletionStage<Void> send(String data) {
        return send(SseEvent.of(data));
    }

    @Override
    public CompletionStage<Void> send(Object data) {
        if (data instanceof SseEvent event) {
            return send(event);
        }
        return send(SseEvent.of(encoder.dataOf(data)));
    }

    @Override
    public CompletionStage<Void> send(String event, Object data) {
        return send(SseEvent.of(event, encoder.dataOf(data)));
    }


    @Override
    public CompletionStage<Void> comment(String text) {
        Objects.requireNonNull(text, "text");
        return submit(text.getBytes(StandardCharsets.UTF_8).length + 3, s -> s.comment(text));
    }

    @Override
    public Optional<String> lastEventId() {
        SseStream s = target();
        return s == null ? Optional.empty() : s.lastEventId();
    }
}
