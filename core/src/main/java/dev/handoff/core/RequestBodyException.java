package dev.handoff.core;

import java.io.IOException;

/**
 * A request body that broke a rule while it streamed in: over its size limit (413), a line over its length
 * limit (413), nothing received for the idle time-out (408), or broken in the container (400: cut short,
 * malformed chunking, reset; 408: the container's own idle time-out; the container's exception is the
 * cause). The message says which. Delivered to the body's subscriber; where the application has not
 * started a response, Handoff answers the request with {@link #status()} and this message, and closes the
 * connection.
 */
public final class RequestBodyException extends IOException {

    private static final long serialVersionUID = 1L;

    private final int status;

    public RequestBodyException(int status, String message) {
        super(message);
        this.status = status;
    }

    public RequestBodyException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status that answers it: 413, 408 or 400. */
    public int status() {
        return status;
    }
}
