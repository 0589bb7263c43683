package dev.handoff.spring;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * The {@link EventStream} {@link HandoffStreams} gives a controller: the engine's unattached SSE stream
 * ({@code Handoff.unattachedSse}), which keeps what is sent before the request is handed off, plus the
 * application's JSON encoder and the topics to subscribe it to once {@link StreamReturnValueHandler} takes it.
 */
final class SpringEventStream implements EventStream {

    /** The engine's stream: unattached until the return value handler hands the request off onto it. */
    final SseStream stream;
    /** Topics to subscribe to when attached; empty for a stream the application feeds itself. */
    final List<String> topics;
    private final EventDataEncoder encoder;

    SpringEventStream(SseStream stream, EventDataEncoder encoder, List<String> topics) {
        this.stream = stream;
        this.encoder = encoder;
        this.topics = List.copyOf(topics);
    }

    @Override
    public CompletionStage<Void> send(Object data) {
        return data instanceof SseEvent event ? send(event) : send(SseEvent.of(encoder.dataOf(data)));
    }

    @Override
    public CompletionStage<Void> send(String event, Object data) {
        return send(SseEvent.of(event, encoder.dataOf(data)));
    }

    // ---- SseStream, delegated.

    @Override
    public CompletionStage<Void> send(SseEvent event) {
        return stream.send(event);
    }

    @Override
    public CompletionStage<Void> comment(String text) {
        return stream.comment(text);
    }

    @Override
    public Optional<String> lastEventId() {
        return stream.lastEventId();
    }

    @Override
    public long id() {
        return stream.id();
    }

    @Override
    public boolean isOpen() {
        return stream.isOpen();
    }

    @Override
    public void close() {
        stream.close();
    }

    @Override
    public void close(CloseReason reason, String detail) {
        stream.close(reason, detail);
    }

    @Override
    public void abort(CloseReason reason, String detail) {
        stream.abort(reason, detail);
    }

    @Override
    public Optional<CloseStatus> closeStatus() {
        return stream.closeStatus();
    }

    @Override
    public CompletionStage<CloseStatus> whenClosed() {
        return stream.whenClosed();
    }

    @Override
    public void onClose(Consumer<CloseStatus> callback) {
        stream.onClose(callback);
    }

    @Override
    public long queuedBytes() {
        return stream.queuedBytes();
    }

    @Override
    public String toString() {
        return "EventStream[" + (topics.isEmpty() ? "" : topics + " ") + stream + "]";
    }
}
