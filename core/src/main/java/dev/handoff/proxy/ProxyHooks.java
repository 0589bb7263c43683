package dev.handoff.proxy;

import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;

/**
 * Where an application changes what {@link StreamingProxy} does for one request. Every method has a default
 * that changes nothing. {@link #target} and {@link #requestHeaders} run on the request thread; the others
 * run later, off the container thread, on the HTTP client's or a container's thread: keep them short,
 * non-blocking and thread-safe.
 */
public interface ProxyHooks {

    /** No changes. */
    ProxyHooks NONE = new ProxyHooks() {
    };

    /** The backend URI to call; the default keeps the one given to {@code forward}. */
    default URI target(URI target, HttpServletRequest request) {
        return target;
    }

    /** Changes the headers sent to the backend (hop-by-hop removed, {@code X-Forwarded-*} added already). */
    default void requestHeaders(ProxyHeaders headers, HttpServletRequest request) {
    }

    /**
     * Sees the backend's status and headers first; return a {@link Reply} to answer the client with that
     * instead (the backend's body is then discarded), or null to relay the backend's response.
     */
    default Reply onResponse(int status, ProxyHeaders headers) {
        return null;
    }

    /** Changes the response headers sent to the client (hop-by-hop removed already). */
    default void onHeaders(int status, ProxyHeaders headers) {
    }

    /** The exchange ended normally: the whole backend body reached the container. */
    default void onComplete(ProxyResult result) {
    }

    /** The exchange failed: before the response (the client got 502 or 504) or in the middle of the body. */
    default void onError(Throwable failure, ProxyResult result) {
    }

    /** A response that replaces the backend's. */
    record Reply(int status, String contentType, String body) {
    }

    /**
     * What one proxied exchange did.
     *
     * @param status the status sent to the client, or 0 if none was
     * @param bytesToBackend request body bytes the backend took
     * @param bytesToClient response body bytes the container took
     */
    record ProxyResult(URI target, int status, long bytesToBackend, long bytesToClient) {
    }
}
