package dev.handoff.core.internal;

/**
 * The one rule for "this response has no body" (RFC 9110 §6.4.1): a 1xx, 204 (No Content), 205 (Reset
 * Content: a server must not send content with it) or 304 (Not Modified) response, and any response to
 * {@code HEAD}. The handoff refuses to open a stream on such a status, and the proxy passes such a response
 * on without a body.
 */
public final class NoBody {

    private NoBody() {
    }

    /** True if a response with this status never has a body, whatever the request. */
    public static boolean forStatus(int status) {
        return status < 200 || status == 204 || status == 205 || status == 304;
    }

    /** True if the response to this request method with this status has no body. */
    public static boolean forExchange(String method, int status) {
        return "HEAD".equalsIgnoreCase(method) || forStatus(status);
    }
}
