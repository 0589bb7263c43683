package dev.handoff.core;

import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * A response that was handed off the container thread: what every stream handle can do, whatever it
 * carries. Thread-safe; no method blocks.
 *
 * <p><b>Terminal guarantee.</b> A stream ends exactly once, with one {@link CloseStatus}. From then on
 * {@link #isOpen()} is false, writes throw {@link StreamClosedException} naming the reason, and each
 * close callback has run exactly once. No callback runs before the stream ends or after it has run.
 */
public interface StreamHandle extends AutoCloseable {

    /** A number unique within this JVM, as printed in Handoff's log lines. */
    long id();

    /** True until the stream starts closing or ends. */
    boolean isOpen();

    /**
     * Closes gracefully with {@link CloseReason#COMPLETED}: bytes already written are sent, then the
     * response completes. Idempotent.
     */
    @Override
    void close();

    /**
     * Closes gracefully with the given reason, for example {@link CloseReason#SHUTDOWN} after a final
     * event. Queued bytes are still sent, within the write timeout. Idempotent: the first close wins.
     */
    void close(CloseReason reason, String detail);

    /**
     * Ends the stream now, discarding queued bytes; their write completions fail. The body is unfinished, so
     * the connection is cut (Jetty and Tomcat), and the client cannot take the truncated body for a whole
     * one; on a container that offers no way to cut it, the response is completed. Idempotent.
     */
    void abort(CloseReason reason, String detail);

    /** How the stream ended, or empty while it is open or still sending its last bytes. */
    Optional<CloseStatus> closeStatus();

    /** Completes once, when the stream has ended and its close callbacks have run. */
    CompletionStage<CloseStatus> whenClosed();

    /**
     * Runs {@code callback} exactly once when the stream ends, on the thread that ended it (or at once,
     * on this thread, if it has already ended). Keep it short: it may run on a container thread.
     */
    void onClose(Consumer<CloseStatus> callback);

    /** Bytes written by the application and not yet taken by the container. */
    long queuedBytes();
}
