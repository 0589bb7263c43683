package dev.handoff.test;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * One Server-Sent Event as a client received it: the fields of its block, as the SSE specification dispatches them
 * ({@code event} defaults to {@code "message"}; {@code id} is the last id seen, which an event without an
 * {@code id:} line inherits).
 */
public final class RecordedEvent {

    private final String id;
    private final String event;
    private final String data;
    private final Duration retry;
    private final Function<String, Map<String, ?>> json;

    RecordedEvent(String id, String event, String data, Duration retry, Function<String, Map<String, ?>> json) {
        this.id = id;
        this.event = Objects.requireNonNull(event, "event");
        this.data = Objects.requireNonNull(data, "data");
        this.retry = retry;
        this.json = json;
    }

    /** The last event id the client holds after this event (what it would send as {@code Last-Event-ID}), or null. */
    public String id() {
        return id;
    }

    /** The event's name: {@code message} unless the block named another. */
    public String event() {
        return event;
    }

    /** The data lines, joined with line feeds. */
    public String data() {
        return data;
    }

    /** The {@code retry:} of this block, if it had one. */
    public Optional<Duration> retry() {
        return Optional.ofNullable(retry);
    }

    /** The data decoded by {@code decode} (the application's JSON mapper, say: {@code mapper::readTree}). */
    public <T> T data(Function<String, T> decode) {
        return decode.apply(data);
    }

    /**
     * A top-level field of the data as JSON, through the JSON decoder the recorder was opened with ({@link
     * SseRecorder#open(java.net.URI, Map, Function)}; the Spring Boot starter's recorders use the application's
     * mapper).
     *
     * @throws IllegalStateException if the recorder has no JSON decoder
     * @throws AssertionError if the data is not a JSON object or has no such field
     */
    public Object field(String name) {
        if (json == null) {
            throw new IllegalStateException("this recorder has no JSON decoder: open it with one, "
                    + "SseRecorder.open(uri, headers, decoder)");
        }
        Map<String, ?> fields;
        try {
            fields = json.apply(data);
        } catch (RuntimeException e) {
            throw new AssertionError("the data of " + this + " is not a JSON object: " + e.getMessage(), e);
        }
        if (fields == null || !fields.containsKey(name)) {
            throw new AssertionError("the data of " + this + " has no field '" + name + "'");
        }
        return fields.get(name);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("event '").append(event).append("'");
        if (id != null) {
            b.append(" id ").append(id);
        }
        b.append(" data ").append(quoted(data));
        if (retry != null) {
            b.append(" retry ").append(retry.toMillis()).append(" ms");
        }
        return b.toString();
    }

    static String quoted(String s) {
        String shown = s.length() > 200 ? s.substring(0, 200) + "… (" + s.length() + " characters)" : s;
        return "\"" + shown.replace("\n", "\\n") + "\"";
    }
}
