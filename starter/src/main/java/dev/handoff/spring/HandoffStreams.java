package dev.handoff.spring;

import dev.handoff.core.ByteStream;
import dev.handoff.core.Handoff;
import dev.handoff.core.RequestBody;
import dev.handoff.core.SseEvent;
import dev.handoff.proxy.StreamingProxy;
import dev.handoff.registry.StreamRegistry;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;
import org.springframework.web.context.request.ServletWebRequest;

/**
 * What a Spring MVC application streams with: inject it, return one of its streams from a controller
 * method, publish from anywhere.
 *
 * <pre>{@code
 * @GetMapping(path = "/tasks/{id}/progress", produces = "text/event-stream")
 * EventStream progress(@PathVariable String id) {
 *     return streams.subscribe("tasks/" + id);      // the container thread is free once this returns
 * }
 *
 * streams.publish("tasks/" + id, "progress", new Progress(id, 42));   // JSON, encoded once for all subscribers
 * }</pre>
 *
 * To proxy a request, pass {@link #handoff()} to a {@link StreamingProxy} (the starter registers one).
 *
 * <p>The returned streams are handed off after the method returns, through Spring's async processing, so
 * Spring's filters and interceptors see an ordinary async request. Exceptions the method throws take the
 * application's usual error path; a refused subscription (limits, authorisation) is answered with its
 * status before anything is committed.
 */
public final class HandoffStreams {

    private final StreamRegistry registry;
    private final EventDataEncoder encoder;
    private final int maxBufferedBytes;

    public HandoffStreams(StreamRegistry registry, EventDataEncoder encoder, int maxBufferedBytes) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.encoder = Objects.requireNonNull(encoder, "encoder");
        this.maxBufferedBytes = maxBufferedBytes;
    }

    /** An SSE stream the application feeds itself (it is not in the registry). */
    public EventStream sse() {
        return new SpringEventStream(Handoff.unattachedSse(maxBufferedBytes), encoder, List.of());
    }

    /**
     * An SSE stream subscribed to {@code topics} in the registry when the controller returns it: with
     * {@code Last-Event-ID} replay, limits and authorisation as {@link StreamRegistry#subscribe} describes.
     */
    public EventStream subscribe(String... topics) {
        if (topics.length == 0) {
            throw new IllegalArgumentException("subscribe needs at least one topic");
        }
        return new SpringEventStream(Handoff.unattachedSse(maxBufferedBytes), encoder, List.of(topics));
    }

    /** A raw chunked stream, for example {@code application/x-ndjson}; a Content-Type the controller set wins. */
    public ByteStream stream(String contentType) {
        return Handoff.unattachedStream(Objects.requireNonNull(contentType, "contentType"), maxBufferedBytes);
    }

    /**
     * The current request's body, read as it arrives (see {@link RequestBody}): call it in a controller
     * method, then return a stream from this class (progress while the body arrives) or answer later with
     * {@link Handoff#respond}. A declared length over {@code maxBytes} is refused with 413 before a byte is read.
     */
    public RequestBody body(long maxBytes) {
        return body(maxBytes, Handoff.DEFAULT_BODY_IDLE_TIMEOUT);
    }

    /** As {@link #body(long)}, with the idle time-out after which a silent uploader is answered 408. */
    public RequestBody body(long maxBytes, Duration idleTimeout) {
        return handoff().body(maxBytes, idleTimeout);
    }

    /**
     * The current request's {@link Handoff}, set to start async processing through Spring's
     * {@code WebAsyncManager}: for answering a request later, from another thread.
     */
    public Handoff handoff() {
        if (!(RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes)
                || attributes.getResponse() == null) {
            throw new IllegalStateException("no current servlet request: call this in a Spring MVC handler method");
        }
        HttpServletRequest request = attributes.getRequest();
        HttpServletResponse response = attributes.getResponse();
        Handoff handoff = Handoff.isAvailable(request) ? Handoff.from(request) : Handoff.of(request, response);
        return handoff.startAsyncWith(() -> StreamReturnValueHandler.startAsync(new ServletWebRequest(request,
                response), request, response));
    }

    /** Publishes {@code data} (a {@code String} as it is, anything else as JSON, encoded once) to the topic. */
    public String publish(String topic, Object data) {
        return registry.publish(topic, data instanceof SseEvent event ? event : SseEvent.of(encoder.dataOf(data)));
    }

    /** Publishes an event named {@code event} whose data is {@code data} (encoded once) to the topic. */
    public String publish(String topic, String event, Object data) {
        return registry.publish(topic, SseEvent.of(event, encoder.dataOf(data)));
    }

    /**
     * Publishes like {@link #publish(String, String, Object)} and returns a stage with the event's id: complete at
     * once on a single instance; with {@code handoff.cluster.enabled}, when Redis took the event (it fails if Redis
     * did not, and then no instance delivered it).
     */
    public CompletionStage<String> publishAsync(String topic, String event, Object data) {
        return registry.publishAsync(topic, SseEvent.of(event, encoder.dataOf(data)));
    }


    /** The registry behind these streams, for stats, later (un)subscriptions and shutdown. */
    public StreamRegistry registry() {
        return registry;
    }
}
