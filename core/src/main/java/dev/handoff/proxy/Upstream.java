package dev.handoff.proxy;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;

/**
 * The HTTP client under {@link StreamingProxy}: sends one request to the backend and hands the response to its
 * exchange. Everything else (hooks, header hygiene, limits, counts, answering failures) stays in the proxy, so
 * every client behaves the same.
 *
 * <p>The contract, for each {@link #send}: either {@link StreamingProxy.ProxyExchange#onResponseStart} is called
 * once (status and headers) and the body then goes to the subscriber it returns, demand-driven, ending in
 * {@code onComplete} or {@code onError}; or {@link StreamingProxy.ProxyExchange#failed} is called with why no
 * response started. A cancelled body subscription ends the backend exchange at once (its connection is closed).
 * The body comes as {@link Chunk}s, one per request(1): the relay asks for the next when the container took the
 * last and is ready for more, so an exchange holds one chunk at a time, however slow its client.
 */
interface Upstream extends AutoCloseable {

    void send(Request request, StreamingProxy.ProxyExchange exchange);

    /** Stops the client if this upstream created it; a client the application gave is left running. */
    @Override
    void close();

    /**
     * One request for the backend.
     *
     * @param headers end-to-end headers to send (hop-by-hop removed, forwarding headers added, hooks applied)
     * @param body the client's body, read as the backend takes it; null for a request without one
     * @param contentLength the body's declared length, or -1 when it is sent chunked
     * @param containerHoldsChunks the container may send from a chunk's array until it is ready again (Jetty),
     *        so each chunk is held that long; Tomcat copies what its socket did not take instead
     */
    record Request(String method, URI uri, ProxyHeaders headers, Flow.Publisher<ByteBuffer> body, long contentLength,
            boolean containerHoldsChunks) {
    }

    /**
     * A piece of the backend's body, handed over: the relay writes a heap buffer's bytes in place (no copy) and
     * runs {@code release} once the container no longer needs them (a pooled buffer then goes back to its pool),
     * or copies any other buffer and releases it at once. A chunk whose write fails is not released: the
     * container may still hold its bytes, and the collector takes it.
     */
    record Chunk(ByteBuffer data, Runnable release) {
        static final Runnable KEEP = () -> { };

        /** A buffer nobody else reuses: nothing to release. */
        static Chunk owned(ByteBuffer data) {
            return new Chunk(data, KEEP);
        }
    }

}
