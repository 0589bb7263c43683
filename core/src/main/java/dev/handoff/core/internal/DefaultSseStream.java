package dev.handoff.core.internal;

import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

public final class DefaultSseStream extends ConnectionHandle implements SseStream {

    /** The request's {@code Last-Event-ID}: set when the stream is made for a request, or when one takes it. */
    private volatile String lastEventId;

    /** A stream for a request that carries {@code lastEventId} (or null). */
    public DefaultSseStream(Connection connection, String lastEventId) {
        super(connection, false);
        this.lastEventId = lastEventId;
    }

    /** A stream made before its request: see {@link #take()}. */
    public DefaultSseStream(Connection connection) {
        super(connection, true);
    }

    /** The {@code Last-Event-ID} of the request that took this unattached stream. */
    public void takenWith(String lastEventId) {
        this.lastEventId = lastEventId;
    }

    @Override
    public CompletionStage<Void> send(SseEvent event) {
        byte[] frame = ApiAccess.api().frame(event);
        return connection.write(frame, 0, frame.length);
    }

    @Override
    public CompletionStage<Void> comment(String text) {
        byte[] frame = SseEncoder.comment(Objects.requireNonNull(text, "text"));
        return connection.write(frame, 0, frame.length);
    }

    @Override
    public Optional<String> lastEventId() {
        return Optional.ofNullable(lastEventId);
    }
}
