package dev.handoff.spring;

import dev.handoff.core.SseStream;
import java.util.concurrent.CompletionStage;

/**
 * An SSE stream that a Spring MVC controller returns, from {@link HandoffStreams}. Until Spring hands it the
 * connection (after the controller method returns), sends are kept, up to the stream's queue bound (a send
 * that does not fit fails its stage with {@code QueueFullException}), and go out first; {@link #id()} is the
 * stream's from the start.
 *
 * <p>Objects are encoded with the application's JSON mapper (Spring Boot's Jackson {@code ObjectMapper} or
 * {@code JsonMapper}, so its modules and naming settings apply); a {@code String} is sent as it is.
 */
public interface EventStream extends SseStream {

    /** Sends {@code data} as an unnamed event: a {@code String} as it is, anything else as JSON. */
    CompletionStage<Void> send(Object data);

    /** Sends an event named {@code event} whose data is {@code data}: a {@code String} as it is, anything else as JSON. */
    CompletionStage<Void> send(String event, Object data);
}
