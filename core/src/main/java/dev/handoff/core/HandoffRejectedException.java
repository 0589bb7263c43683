package dev.handoff.core;

/**
 * A handoff refused because of the request, before anything was committed: the response can still carry
 * the error. {@link HandoffFilter} answers it with {@link #status()} and the message as a plain-text body;
 * without the filter the application may catch it and do the same.
 */
public final class HandoffRejectedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;

    public HandoffRejectedException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** The HTTP status to answer with, for example 400 for a malformed {@code Last-Event-ID}. */
    public int status() {
        return status;
    }
}
