package dev.handoff.core;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The async cycle of one handed-off request, shared by its request body and its response stream.
 *
 * <p>A request may read its body and stream its response, each starting at a different moment, possibly
 * after the container thread returned; the servlet API lets listeners be added only while that thread
 * runs. So one listener is registered when async processing starts, and forwards the container's events
 * to whichever of the two sides is attached. The response is completed once, by whoever ends first
 * for good: the response stream, or a request body refused before any response was started.
 */
final class Exchange implements AsyncListener {

    final AsyncContext async;
    private final AtomicBoolean completed = new AtomicBoolean();
    private volatile Connection response;
    private volatile BodyReader body;

    Exchange(AsyncContext async) {
        this.async = async;
    }

    void attach(Connection connection) {
        this.response = connection;
    }

    void attach(BodyReader reader) {
        this.body = reader;
    }

    /** Completes the response; idempotent. */
    void complete() {
        if (completed.compareAndSet(false, true)) {
            async.complete();
        }
    }

    /**
     * Cuts the connection, so that a client never takes a truncated body for a whole one. The servlet API
     * has no call for it (jakartaee/servlet#98); Jetty takes {@code sendError(-1)} on a committed response
     * as one. Other containers refuse that, and the response is completed instead.
     */
    void abort() {
        if (!completed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (async.getResponse() instanceof HttpServletResponse response) {
                response.sendError(-1);
            }
        } catch (IOException | IllegalStateException notSupported) {
            // This container cannot abort: complete below.
        }
        try {
            async.complete();
        } catch (IllegalStateException alreadyAborted) {
            // Jetty: the aborted response is complete already.
        }
    }

    boolean isCompleted() {
        return completed.get();
    }

    // ---- AsyncListener: container threads.

    @Override
    public void onComplete(AsyncEvent event) {
        boolean byUs = !completed.compareAndSet(false, true);
        Connection c = response;
        if (c != null && !byUs) {
            c.onContainerComplete();
        }
        BodyReader b = body;
        if (b != null) {
            b.onExchangeEnded(new IOException("the response completed before the request body was read"));
        }
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        // Handoff sets no container time-out; a container that enforces one anyway ends the exchange here.
        Connection c = response;
        if (c != null) {
            c.abort(CloseReason.IDLE_TIMEOUT, "the container's async time-out expired", null);
        }
        BodyReader b = body;
        if (b != null) {
            b.onExchangeEnded(new IOException("the container's async time-out expired"));
        }
        complete();
    }

    @Override
    public void onError(AsyncEvent event) {
        Throwable t = event.getThrowable() != null ? event.getThrowable()
                : new IOException("the container reported an error");
        Connection c = response;
        if (c != null) {
            c.onContainerError(t);
        }
        BodyReader b = body;
        if (b != null) {
            b.onExchangeEnded(t);
        }
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // The cycle is never restarted.
    }
}
