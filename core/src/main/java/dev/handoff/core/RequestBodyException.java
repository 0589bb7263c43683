package dev.handoff.core;

import java.io.IOException;

/**
 * A request body that broke a rule while it streamed in: over its size limit (413), a line over its length
 * limit (413), or nothing received for the idle time-out (408). The message says which rule. Delivered
 * to the body's subscriber; where the application has not started a response, Handoff answers the
 * request with {@link #status()} and this message, and closes the connection.
 */
public final class RequestBodyException extends IOException {

    private static final long serialVersionUID = 1L;

    private final int status;

    public RequestBodyException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** The HTTP status that answers it: 413 or 408. */
    public int status() {
        return status;
    }
}
