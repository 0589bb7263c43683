package dev.handoff.core.internal;

import java.io.IOException;

/**
 * What a {@link Connection} needs from the container: the non-blocking output stream's three calls and
 * the end of the response. {@link ServletTransport} adapts a real {@code AsyncContext}; unit tests use
 * an in-memory double, so that the writer's state machine is tested without a container.
 *
 * <p>The connection guarantees that at most one thread calls {@link #isReady()}, {@link #write} or
 * {@link #flush()} at a time, that {@code write} and {@code flush} follow an {@code isReady()} that
 * returned true, and that {@link #complete()} is never called during a write. {@code complete()} may be
 * called after the container completed the response on its own; implementations ignore that.
 */
interface Transport {

    boolean isReady();

    void write(byte[] bytes, int offset, int length) throws IOException;

    void flush() throws IOException;

    /**
     * True if a write's array may still be in use after {@code write} returned, until {@code isReady()} is true
     * again: Jetty's non-blocking output sends a large write from the caller's array. Tomcat's copies what its
     * socket did not take before it returns, so its writes are done when {@code write} returns.
     */
    default boolean holdsWrittenArrays() {
        return true;
    }

    /** Ends the response. */
    void complete();

    /**
     * Ends the response so that the client can tell it is incomplete: the connection is cut instead of the
     * body being finished. Where the container offers no way to do that, the response is completed.
     */
    default void abort() {
        complete();
    }
}
