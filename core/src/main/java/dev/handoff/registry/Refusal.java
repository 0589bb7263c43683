package dev.handoff.registry;

/** Why a {@link StreamRegistry} refused to open a stream or add a subscription, with the HTTP status it answers. */
public enum Refusal {
    /** A topic name breaks the naming rule (400). */
    BAD_TOPIC(400),
    /** The {@link TopicAuthorizer} said no (403). */
    FORBIDDEN(403),
    /** The client key already has its maximum number of streams (429, with {@code Retry-After}). */
    CLIENT_LIMIT(429),
    /** The registry already holds its maximum number of streams (503, with {@code Retry-After}). */
    STREAM_LIMIT(503),
    /** A topic already has its maximum number of subscribers (503, with {@code Retry-After}). */
    TOPIC_LIMIT(503),
    /** The registry is shutting down (503, with {@code Retry-After}). */
    SHUTTING_DOWN(503);

    private final int status;

    Refusal(int status) {
        this.status = status;
    }

    /** The HTTP status of the refusal. */
    public int status() {
        return status;
    }

    /** True for the refusals a client may retry later. */
    public boolean isTemporary() {
        return status == 429 || status == 503;
    }
}
