package dev.handoff.core;

import dev.handoff.core.internal.UnreadBody;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * A handoff or subscription refused because of the request, before anything was committed: the response
 * can still carry the error. {@link HandoffFilter} answers it with {@link #respond}: the status, a
 * {@code Retry-After} header where the refusal is temporary (a stream limit), and the message as a
 * plain-text body. Without the filter the application may catch it and call {@link #respond} itself.
 */
public final class HandoffRejectedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final Duration retryAfter;

    public HandoffRejectedException(int status, String message) {
        this(status, message, null);
    }

    /**
     * @param retryAfter when the client may try again (sent as {@code Retry-After} in whole seconds), or null
     */
    public HandoffRejectedException(int status, String message, Duration retryAfter) {
        super(message);
        this.status = status;
        this.retryAfter = retryAfter;
    }

    /** The HTTP status to answer with, for example 400 for a malformed {@code Last-Event-ID}. */
    public int status() {
        return status;
    }

    /** When the client may try again, for a temporary refusal such as 503 or 429. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    /**
     * Writes the refusal to a response that is not committed: status, {@code Retry-After}, and the message
     * as a {@code text/plain} body. A 413 or 408 also says {@code Connection: close}, since the body is left
     * unread; use {@link #respond(HttpServletRequest, HttpServletResponse)} where the request may be HTTP/2, which
     * has no such header.
     *
     * @throws IllegalStateException if the response is already committed
     */
    public void respond(HttpServletResponse response) throws IOException {
        respond(null, response);
    }

    /**
     * As {@link #respond(HttpServletResponse)}, for this request: over HTTP/2 (or later) no {@code Connection}
     * header is sent (it is illegal there; an unread body ends its stream alone, not the connection). A body
     * nobody has read is taken off the container's thread: over HTTP/1.x it is read away as it arrives (up to
     * 2 MiB, for at most 10 s) and the connection then ends, so a client that declares a body and never sends it
     * holds no request thread; the request completes once the answer is written and the body is done with.
     *
     * @throws IllegalStateException if the response is already committed
     */
    public void respond(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (response.isCommitted()) {
            throw new IllegalStateException("cannot answer '" + getMessage() + "' with " + status
                    + ": the response is already committed", this);
        }
        // A body nobody read is taken off the container's thread first (UnreadBody says why).
        UnreadBody unread = request == null ? null : UnreadBody.take(request, response, isHttp1(request));
        try {
            write(request, response);
        } finally {
            if (unread != null) {
                unread.answered();
            }
        }
    }

    private void write(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.resetBuffer();
        response.setStatus(status);
        if (retryAfter != null) {
            long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
            response.setHeader("Retry-After", Long.toString(seconds));
        }
        if ((status == 413 || status == 408) && isHttp1(request)) {
            // The body is left unread: close the connection rather than let the container drain it.
            response.setHeader("Connection", "close");
        }
        response.setContentType("text/plain;charset=UTF-8");
        byte[] body = (getMessage() + "\n").getBytes(StandardCharsets.UTF_8);
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
        // Sent now: a container may go on to drain an unread request body before it finishes the response.
        response.flushBuffer();
    }

    /** Whether the request is HTTP/1.x (or unknown): where hop-by-hop headers such as {@code Connection} exist. */
    static boolean isHttp1(HttpServletRequest request) {
        return request == null || !request.getProtocol().startsWith("HTTP/2") && !request.getProtocol().startsWith("HTTP/3");
    }
}
