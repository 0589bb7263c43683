package dev.handoff.core;

/**
 * Thrown by a write to a stream that has ended or is closing, and used to fail the completion of a write
 * whose bytes were discarded because the stream ended. The message names the reason, for example
 * {@code "stream 12 already closed: CLIENT_GONE (Broken pipe)"}.
 */
public final class StreamClosedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final transient CloseStatus status;

    public StreamClosedException(String message, CloseStatus status) {
        super(message);
        this.status = status;
    }

    /** How the stream ended, or is ending where its last bytes are still being sent after a graceful close. */
    public CloseStatus status() {
        return status;
    }
}
