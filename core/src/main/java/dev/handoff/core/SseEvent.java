package dev.handoff.core;

import dev.handoff.core.internal.SseEncoder;
import java.time.Duration;
import java.util.Objects;

/**
 * One Server-Sent Event, validated and encoded to its UTF-8 wire form once, when it is built.
 *
 * <p>The encoded bytes are immutable and shared: sending the same {@code SseEvent} to ten thousand
 * streams encodes it once and queues the same array ten thousand times. Build an event once per
 * broadcast, not once per subscriber.
 *
 * <p>Rules, from the WHATWG EventSource format (see {@link SseEncoder}):
 * <ul>
 *   <li>{@code data} may hold any number of lines (split on CRLF, LF or CR); each becomes a
 *       {@code data:} line, so the client sees the same text with LF line ends. Empty data is sent as
 *       one empty {@code data:} line, which clients dispatch as an event with empty data.</li>
 *   <li>{@code id} and {@code event} are single lines: CR or LF would start a new field, so they are
 *       rejected, as is NUL (clients ignore an id with it, and no listener matches a name with it).</li>
 *   <li>{@code retry} is a whole number of milliseconds, zero or more.</li>
 *   <li>{@code comment} lines are ignored by clients; they keep intermediaries from timing out.</li>
 * </ul>
 */
public final class SseEvent {

    private final String id;
    private final String event;
    private final String data;
    private final Duration retry;
    private final String comment;
    private final byte[] encoded;

    private SseEvent(Builder b) {
        this.id = b.id;
        this.event = b.event;
        this.data = b.data;
        this.retry = b.retry;
        this.comment = b.comment;
        if (id == null && event == null && data == null && retry == null && comment == null) {
            throw new IllegalArgumentException("an SSE event needs at least one of data, id, event, retry or comment");
        }
        this.encoded = SseEncoder.encode(id, event, data, retry, comment);
    }

    /** An event with only data: the common case. */
    public static SseEvent of(String data) {
        return builder().data(data).build();
    }

    /** An event named {@code event} carrying {@code data}. */
    public static SseEvent of(String event, String data) {
        return builder().event(event).data(data).build();
    }

    /** A comment frame, ignored by clients. */
    public static SseEvent comment(String text) {
        return builder().comment(text).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The event id, or null. */
    public String id() {
        return id;
    }

    /** The event name, or null (clients then dispatch it as {@code message}). */
    public String event() {
        return event;
    }

    /** The data, or null. */
    public String data() {
        return data;
    }

    /** The reconnection delay to advise, or null. */
    public Duration retry() {
        return retry;
    }

    /** The comment, or null. */
    public String comment() {
        return comment;
    }

    /** The size of the encoded frame in bytes. */
    public int encodedLength() {
        return encoded.length;
    }

    /** The encoded frame; shared, never to be modified. */
    byte[] encoded() {
        return encoded;
    }

    @Override
    public String toString() {
        return "SseEvent[id=" + id + ", event=" + event + ", " + encoded.length + " bytes]";
    }

    /** Builds an {@link SseEvent}; every setter validates its value at once. */
    public static final class Builder {
        private String id;
        private String event;
        private String data;
        private Duration retry;
        private String comment;

        private Builder() {
        }

        public Builder id(String id) {
            this.id = SseEncoder.requireSingleLine("id", id);
            return this;
        }

        public Builder event(String event) {
            this.event = SseEncoder.requireSingleLine("event", event);
            return this;
        }

        public Builder data(String data) {
            this.data = Objects.requireNonNull(data, "data");
            return this;
        }

        public Builder retry(Duration retry) {
            Objects.requireNonNull(retry, "retry");
            if (retry.isNegative()) {
                throw new IllegalArgumentException("SSE retry must not be negative: " + retry);
            }
            this.retry = retry;
            return this;
        }

        public Builder comment(String comment) {
            this.comment = Objects.requireNonNull(comment, "comment");
            return this;
        }

        public SseEvent build() {
            return new SseEvent(this);
        }
    }
}
