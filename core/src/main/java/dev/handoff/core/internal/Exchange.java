package dev.handoff.core.internal;

import dev.handoff.core.CloseReason;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The async cycle of one handed-off request, shared by its request body and its response stream.
 *
 * <p>A request may read its body and stream its response, each starting at a different moment, possibly
 * after the container thread returned; the servlet API lets listeners be added only while that thread
 * runs. So one listener is registered when async processing starts, and forwards the container's events
 * to whichever of the two sides is attached. The response is completed once, by whoever ends first
 * for good: the response stream, or a request body refused before any response was started.
 */
public final class Exchange implements AsyncListener {

    private static final Logger log = LoggerFactory.getLogger(Exchange.class);

    /**
     * How long a container's error callback waits for a writer that is inside the output stream on another
     * thread to leave it and complete the response. A non-blocking write returns in microseconds; this only
     * bounds a container that misbehaves.
     */
    static final long WRITER_EXIT_MILLIS = 1000;

    final AsyncContext async;
    private final AtomicBoolean completed = new AtomicBoolean();
    /** Counted down once the response is completed (by us, after the call returned, or by the container). */
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile Connection response;
    private volatile BodyReader body;

    public Exchange(AsyncContext async) {
        this.async = async;
    }

    public void attach(Connection connection) {
        this.response = connection;
    }

    public void attach(BodyReader reader) {
        this.body = reader;
    }

    /** Completes the response; idempotent. */
    /**
     * Caps the kernel send buffer of this exchange's HTTP/1 connection (see {@link SendBuffer}); false where the
     * container does not let us.
     */
    public boolean capSendBuffer(int bytes) {
        return SendBuffer.cap(async.getRequest(), async.getResponse(), bytes);
    }

    public void complete() {
        if (completed.compareAndSet(false, true)) {
            try {
                async.complete();
            } finally {
                ended.countDown();
            }
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
            // Jetty 12.0 cannot abort while a write is pending: fail that write first (see JettyAbort).
            JettyAbort.closeHttp1(async.getRequest(), "the stream was cut");
            if (async.getResponse() instanceof HttpServletResponse response) {
                response.sendError(-1);
            }
        } catch (IOException | IllegalStateException notSupported) {
            // Not this way on this container (Tomcat): its own action, or else complete below.
            TomcatActions.closeNow(async.getResponse());
        }
        try {
            async.complete();
        } catch (IllegalStateException alreadyAborted) {
            // Jetty: the aborted response is complete already.
        } finally {
            ended.countDown();
        }
    }

    /** Aborts the response stream, if one was opened: false if there is none. */
    public boolean abortStream(CloseReason reason, String detail) {
        Connection c = response;
        if (c == null) {
            return false;
        }
        c.abort(reason, detail, null);
        return true;
    }

    public boolean isCompleted() {
        return completed.get();
    }

    // ---- AsyncListener: container threads.

    @Override
    public void onComplete(AsyncEvent event) {
        boolean byUs = !completed.compareAndSet(false, true);
        ended.countDown();
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
        if (c != null) {
            completeInErrorCallback(t);
        }
    }

    /**
     * The stream has ended; the response must be completed from this error callback, before it returns. A
     * container whose listeners leave the request in error answers it itself with an error-page dispatch
     * and a completion of its own (Tomcat): on a committed stream that is an error page written into the
     * stream's connection, sometimes a second completion that fails, and log lines for what is only a
     * client that went away. Two things stand in the way. A writer may be inside the output stream on
     * another thread: it completes the response when it leaves, so wait for that, a bounded time. And the
     * response may have been completed a moment before the error arrived (a failed write ends the stream
     * at once), yet the container put the request back into error (Tomcat does, when the error follows a
     * failed write): complete it again here, which the container takes or refuses as already done.
     */
    private void completeInErrorCallback(Throwable t) {
        boolean writerLeft = false;
        try {
            writerLeft = ended.await(WRITER_EXIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!writerLeft) {
            log.debug("a writer did not leave the output stream within {} ms of the container's error ({}); "
                    + "completing the response from the error callback", WRITER_EXIT_MILLIS, t.toString());
        }
        completed.set(true);
        try {
            async.complete();
        } catch (IllegalStateException alreadyComplete) {
            // The container took the first completion: nothing is left to do.
        } finally {
            ended.countDown();
        }
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // The cycle is never restarted.
    }
}
