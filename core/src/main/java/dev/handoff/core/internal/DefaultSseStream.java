package dev.handoff.core.internal;

import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

public final class DefaultSseStream extends ConnectionHandle implements SseStream {

    private final String lastEventId;

    public DefaultSseStream(Connection connection, String lastEventId) {
        super(connection);
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
