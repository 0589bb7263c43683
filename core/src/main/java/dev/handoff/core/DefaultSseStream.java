package dev.handoff.core;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

final class DefaultSseStream extends ConnectionHandle implements SseStream {

    private final String lastEventId;

    DefaultSseStream(Connection connection, String lastEventId) {
        super(connection);
        this.lastEventId = lastEventId;
    }

    @Override
    public CompletionStage<Void> send(SseEvent event) {
        byte[] frame = event.encoded();
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
