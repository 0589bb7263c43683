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
 */
interface Upstream extends AutoCloseable {

    void send(Request request, StreamingProxy.ProxyExchange exchange);

    /**
     * True if every body buffer is a heap buffer over an array of its own, nobody else's to reuse: the relay
     * then writes that array without copying it.
     */
    default boolean handsOverBuffers() {
        return false;
    }

    /** Stops the client if this upstream created it; a client the application gave is left running. */
    @Override
    void close();

    /**
     * One request for the backend.
     *
     * @param headers end-to-end headers to send (hop-by-hop removed, forwarding headers added, hooks applied)
     * @param body the client's body, read as the backend takes it; null for a request without one
     * @param contentLength the body's declared length, or -1 when it is sent chunked
     */
    record Request(String method, URI uri, ProxyHeaders headers, Flow.Publisher<ByteBuffer> body, long contentLength) {
    }

}
