package dev.handoff.core;

import dev.handoff.core.internal.HeaderRules;
import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Full-mode handoff: the status and headers of a stream, declared once, then committed together by
 * {@link #sse()} or {@link #stream()}. The handle those return has no way to change a header, because
 * after the commit no header can change (Rack's "full hijack", without giving up the HTTP framing).
 *
 * <p>Headers that filters earlier in the chain already set on the response (CORS, security headers)
 * are kept unless a header here replaces them: clearing them silently would be a security bug.
 *
 * <p>Values are validated as they are given: a header name must be an HTTP token, and a value must not
 * contain CR, LF or NUL, so that no value can split the response.
 */
public final class ResponseHead {

    private final Handoff handoff;
    private final int status;
    private final List<Header> headers = new ArrayList<>();
    private String contentType;
    /** A length known before the body streams (a proxied backend's), or -1: the body is chunked. */
    private long contentLength = -1;

    ResponseHead(Handoff handoff, int status) {
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("HTTP status must be between 100 and 599: " + status);
        }
        Handoff.requireBodyAllowed(status);
        this.handoff = handoff;
        this.status = status;
    }

    /** Sets a header, replacing any value of the same name (including one a filter set). */
    public ResponseHead header(String name, String value) {
        headers.add(new Header(validName(name), HeaderRules.requireValue(name, value), false));
        return this;
    }

    /** Adds a header value, keeping other values of the same name. */
    public ResponseHead addHeader(String name, String value) {
        headers.add(new Header(validName(name), HeaderRules.requireValue(name, value), true));
        return this;
    }

    /** Sets the {@code Content-Type}. */
    public ResponseHead contentType(String type) {
        this.contentType = HeaderRules.requireValue("Content-Type", type);
        return this;
    }

    /** Commits the head and returns the SSE stream; {@code Content-Type} defaults to {@code text/event-stream}. */
    public SseStream sse() {
        return handoff.openSse(this);
    }

    /** Commits the head and returns the raw stream; {@code Content-Type} defaults to {@code application/octet-stream}. */
    public ByteStream stream() {
        return handoff.openBytes(this);
    }

    /** For a body whose length is known before it streams (a proxied backend's): the client gets it. */
    ResponseHead contentLength(long length) {
        if (length < 0) {
            throw new IllegalArgumentException("Content-Length must not be negative: " + length);
        }
        this.contentLength = length;
        return this;
    }

    int status() {
        return status;
    }

    String contentType() {
        return contentType;
    }

    void applyTo(HttpServletResponse response) {
        response.setStatus(status);
        for (Header h : headers) {
            if (h.add()) {
                response.addHeader(h.name(), h.value());
            } else {
                response.setHeader(h.name(), h.value());
            }
        }
        if (contentType != null) {
            response.setContentType(contentType);
        }
        if (contentLength >= 0) {
            response.setContentLengthLong(contentLength);
        }
    }

    private record Header(String name, String value, boolean add) {
    }

    private static String validName(String name) {
        HeaderRules.requireName(name);
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("content-length") || lower.equals("transfer-encoding")) {
            throw new IllegalArgumentException("header " + name + " is managed by the container: a stream has no "
                    + "length known in advance");
        }
        return name;
    }
}
