package dev.handoff.proxy;

import dev.handoff.core.ByteStream;
import dev.handoff.core.Handoff;
import dev.handoff.core.HandoffFilter;
import dev.handoff.core.HandoffRejectedException;
import dev.handoff.core.RequestBody;
import dev.handoff.core.ResponseHead;
import dev.handoff.core.internal.ApiAccess;
import dev.handoff.core.internal.DefaultByteStream;
import dev.handoff.core.internal.FailureText;
import dev.handoff.core.internal.NoBody;
import dev.handoff.core.internal.ServletTransport;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards a request to a backend and streams the backend's response to the client, off the container
 * thread, with backpressure both ways: the client's body is read only as fast as the backend takes it (the
 * HTTP client's demand drives a {@link RequestBody}), and the backend's body is read only as fast as the
 * client takes it (the next chunk is asked for when the container took the last ones).
 *
 * <pre>{@code
 * StreamingProxy proxy = StreamingProxy.builder().maxConcurrent(500).build();      // one per application
 * proxy.forward(request, URI.create("http://reports.internal:8080" + request.getRequestURI()));
 * }</pre>
 *
 * <p>Hop-by-hop headers are removed both ways and {@code X-Forwarded-For}, {@code -Proto} and {@code -Host}
 * are added. Chunks are written through as they arrive, so SSE and other streams flow event by event, and
 * no total time-out cuts a long stream: only the connect time-out, the time to the response's start, and
 * the idle time between chunks. Before the response starts, a backend that refuses or resets is answered
 * 502 and a time-out 504, each with a short body. A backend that fails mid-body aborts the client's
 * response (its connection is cut). A client that leaves cancels the
 * backend exchange at once. Beyond {@code maxConcurrent} exchanges, requests are refused with 503 and
 * {@code Retry-After}.
 *
 * <p>The backend's {@code Content-Length} is passed on where it is valid; a response without one is streamed
 * chunked.
 *
 * <p>The HTTP client underneath is the JDK's by default, or Jetty's ({@link Builder#jettyClient()}, with
 * {@code org.eclipse.jetty:jetty-client} 12 on the class path), which moves large bodies faster; everything
 * above (hooks, headers, limits, time-outs, counts) is the same on both. {@link #close()} stops a client the
 * proxy created.
 */
public final class StreamingProxy implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StreamingProxy.class);

    private final Upstream upstream;
    final Duration idleTimeout;
    private final int maxConcurrent;
    private final long maxRequestBytes;
    private final Duration retryAfter;

    private final AtomicInteger active = new AtomicInteger();
    private final LongAdder forwarded = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder failedBeforeResponse = new LongAdder();
    final LongAdder abortedMidBody = new LongAdder();
    private final LongAdder bytesToBackend = new LongAdder();
    final LongAdder bytesToClient = new LongAdder();

    private StreamingProxy(Builder b) {
        Duration connectTimeout = b.connectTimeout;
        // HTTP/1.1: the JDK client's default, HTTP/2, would ask every cleartext backend to upgrade (h2c).
        this.upstream = b.upstream != null ? b.upstream.apply(b) : new JdkUpstream(() -> HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER).build(), b.responseTimeout);
        this.idleTimeout = b.idleTimeout;
        this.maxConcurrent = b.maxConcurrent;
        this.maxRequestBytes = b.maxRequestBytes;
        this.retryAfter = b.retryAfter;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Forwards the request (found through {@link HandoffFilter}) to {@code target}, without hooks. */
    public void forward(HttpServletRequest request, URI target) {
        forward(Handoff.from(request), target, ProxyHooks.NONE);
    }

    /**
     * Forwards the handoff's request to {@code target} and returns at once; the exchange goes on off the
     * container thread. {@code target} is the whole backend URI (path and query included).
     *
     * @throws HandoffRejectedException 503 over the concurrency limit, 413 for a declared body over the limit
     */
    public void forward(Handoff handoff, URI target, ProxyHooks hooks) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(hooks, "hooks");
        if (active.incrementAndGet() > maxConcurrent) {
            active.decrementAndGet();
            refused.increment();
            throw new HandoffRejectedException(503, "the proxy is at its limit of " + maxConcurrent + " concurrent "
                    + "exchanges; retry later", retryAfter);
        }
        boolean started = false;
        try {
            HttpServletRequest request = ApiAccess.api().request(handoff);
            URI uri = Objects.requireNonNull(hooks.target(target, request), "the target hook returned null");
            ProxyHeaders headers = requestHeaders(request);
            hooks.requestHeaders(headers, request);
            ProxyExchange exchange = new ProxyExchange(handoff, uri, hooks);
            Upstream.Request upstreamRequest = new Upstream.Request(request.getMethod(), uri, headers,
                    requestBody(handoff, request, exchange), request.getContentLengthLong(),
                    ServletTransport.holdsWrittenArrays(ApiAccess.api().response(handoff)));
            ApiAccess.api().beginAsync(handoff);
            forwarded.increment();
            started = true;
            upstream.send(upstreamRequest, exchange);
        } finally {
            if (!started) {
                active.decrementAndGet();
            }
        }
    }

    private static ProxyHeaders requestHeaders(HttpServletRequest request) {
        ProxyHeaders headers = new ProxyHeaders();
        for (String name : Collections.list(request.getHeaderNames())) {
            for (String value : Collections.list(request.getHeaders(name))) {
                headers.add(name, value);
            }
        }
        headers.removeHopByHop();
        String forwardedFor = headers.first("X-Forwarded-For");
        headers.set("X-Forwarded-For", forwardedFor == null ? request.getRemoteAddr()
                : forwardedFor + ", " + request.getRemoteAddr());
        headers.set("X-Forwarded-Proto", request.getScheme());
        String host = request.getHeader("Host");
        if (host != null) {
            headers.set("X-Forwarded-Host", host);
        }
        return headers;
    }

    /**
     * The request body, read from the client only as fast as the backend takes it; null for a bodiless request.
     * Each buffer is counted as the HTTP client takes it (it asked for it), for the exchange and the proxy.
     */
    private Flow.Publisher<ByteBuffer> requestBody(Handoff handoff, HttpServletRequest request, ProxyExchange exchange) {
        long length = request.getContentLengthLong();
        boolean chunked = request.getHeader("Transfer-Encoding") != null;
        if (length <= 0 && !chunked) {
            return null;
        }
        RequestBody body = handoff.body(maxRequestBytes, idleTimeout);
        return subscriber -> body.subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscriber.onSubscribe(s);
            }

            @Override
            public void onNext(ByteBuffer item) {
                int n = item.remaining();
                exchange.sentToBackend.add(n);
                bytesToBackend.add(n);
                subscriber.onNext(item);
            }

            @Override
            public void onError(Throwable t) {
                subscriber.onError(t);
            }

            @Override
            public void onComplete() {
                subscriber.onComplete();
            }
        });
    }

    /** Which HTTP client the proxy sits on and its limits, for logs. */
    @Override
    public String toString() {
        return "StreamingProxy[client=" + upstream + ", maxConcurrent=" + maxConcurrent + ", active=" + active.get()
                + "]";
    }

    /** Stops the HTTP client if the proxy created a Jetty one; a client the application gave is left to it. */
    @Override
    public void close() {
        upstream.close();
    }

    /** Counts of everything this proxy did. */
    public record Stats(int active, long forwarded, long refused, long failedBeforeResponse, long abortedMidBody,
            long bytesToBackend, long bytesToClient) {
    }

    public Stats stats() {
        return new Stats(active.get(), forwarded.sum(), refused.sum(), failedBeforeResponse.sum(), abortedMidBody.sum(),
                bytesToBackend.sum(), bytesToClient.sum());
    }

    /** One forwarded request: from the backend's response start to the end of its body. */
    final class ProxyExchange {
        private final Handoff handoff;
        final URI target;
        private final ProxyHooks hooks;
        private final AtomicBoolean ended = new AtomicBoolean();
        /** Set on the HTTP client's thread when the response starts; null until then. */
        private volatile ProxyRelay relay;
        private volatile int status;
        /** Request body bytes the HTTP client took for this exchange. */
        final LongAdder sentToBackend = new LongAdder();

        ProxyExchange(Handoff handoff, URI target, ProxyHooks hooks) {
            this.handoff = handoff;
            this.target = target;
            this.hooks = hooks;
        }

        /**
         * The backend's status and headers arrived (on the HTTP client's thread): answer the client, and return
         * where the backend's body goes.
         */
        Flow.Subscriber<Upstream.Chunk> onResponseStart(int code, ProxyHeaders headers) {
            headers.removeHopByHop();
            passLength(headers, code);
            ProxyHooks.Reply reply = hooks.onResponse(code, headers);
            if (reply != null) {
                answer(reply.status(), reply.contentType(), reply.body());
                end(null);
                return new ProxyRelay.Cancelling();
            }
            hooks.onHeaders(code, headers);
            status = code;
            if (!bodyAllowed(code)) {
                HttpServletResponse response = ApiAccess.api().response(handoff);
                response.setStatus(code);
                headers.forEach((name, value) -> {
                    if (isSingleton(name)) {
                        response.setHeader(name, value);
                    } else {
                        response.addHeader(name, value);
                    }
                });
                ApiAccess.api().completeWithoutBody(handoff);
                end(null);
                return new ProxyRelay.Cancelling();
            }
            // Bulk bytes: the system's send buffer (a cap would limit a far client to about twice it per round trip).
            ResponseHead head = handoff.options(o -> o.withHeartbeat(Duration.ZERO).withIdleTimeout(Duration.ZERO)
                    .withMaxQueuedBytes(8 << 20).withSocketSendBuffer(0)).respond(code);
            headers.forEach((name, value) -> {
                if (name.equalsIgnoreCase("Content-Type")) {
                    head.contentType(value);
                } else if (name.equalsIgnoreCase("Content-Length")) {
                    setLength(value, head);
                } else if (isSingleton(name)) {
                    head.header(name, value);
                } else {
                    head.addHeader(name, value);
                }
            });
            ProxyRelay r = new ProxyRelay(StreamingProxy.this, (DefaultByteStream) head.stream(), this,
                    handoff.options().scheduler());
            relay = r;
            return r;
        }

        /**
         * Keeps the backend's {@code Content-Length} where it is one valid length of a response that may have
         * a body: the client then knows the size, and a body cut short by a backend failure is short of it as
         * well as cut. Otherwise the response is streamed chunked.
         */
        private void passLength(ProxyHeaders headers, int code) {
            List<String> lengths = headers.all("Content-Length");
            headers.remove("Content-Length");
            if (lengths.size() == 1 && !NoBody.forStatus(code) && lengthOf(lengths.get(0)) >= 0) {
                headers.add("Content-Length", lengths.get(0).trim());
            }
        }

        /** The body's length for the client; one a hook left unparsable is dropped, and the body goes chunked. */
        private void setLength(String value, ResponseHead head) {
            long length = lengthOf(value);
            if (length >= 0) {
                ApiAccess.api().contentLength(head, length);
            } else {
                log.debug("proxy to {}: ignoring Content-Length {} (not a length); the body goes chunked", target,
                        value);
            }
        }

        /**
         * Headers the container may have set already ({@code Server}, {@code Date}: Jetty adds both to every
         * response), which the backend's value replaces instead of joining: a response has one of each.
         */
        private static boolean isSingleton(String name) {
            return name.equalsIgnoreCase("Server") || name.equalsIgnoreCase("Date");
        }

        /** A {@code Content-Length} value as a number of bytes, or -1 if it is not one. */
        private static long lengthOf(String value) {
            String v = value.trim();
            if (v.isEmpty() || v.length() > 18 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return -1;
            }
            return Long.parseLong(v);
        }

        private boolean bodyAllowed(int code) {
            return !NoBody.forExchange(ApiAccess.api().request(handoff).getMethod(), code);
        }

        /** The HTTP client failed: before the response started, the client is answered 502 or 504 here. */
        void failed(Throwable cause) {
            if (relay != null || ended.get()) {
                return;
            }
            failedBeforeResponse.increment();
            if (cause instanceof HttpTimeoutException || cause instanceof TimeoutException
                    || cause instanceof SocketTimeoutException) {
                answer(504, "text/plain;charset=UTF-8", "the backend did not answer within the time-out ("
                        + FailureText.brief(cause) + ")\n");
            } else {
                String why = cause instanceof ConnectException ? "refused the connection" : "failed: " + FailureText.brief(cause);
                answer(502, "text/plain;charset=UTF-8", "the backend " + why + "\n");
            }
            log.info("proxy to {} failed before the response: {}", target, FailureText.brief(cause));
            end(cause);
        }

        private void answer(int code, String contentType, String body) {
            status = code;
            try {
                ByteStream out = handoff.respond(code).contentType(contentType).stream();
                out.write(body);
                out.close();
            } catch (RuntimeException e) {
                log.debug("proxy to {}: could not answer {}: {}", target, code, e.toString());
            }
        }

        /** Runs once: the exchange is over, well or not. */
        void end(Throwable failure) {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            active.decrementAndGet();
            ProxyRelay r = relay;
            ProxyHooks.ProxyResult result = new ProxyHooks.ProxyResult(target, status, sentToBackend.sum(),
                    r == null ? 0 : r.bytes());
            try {
                if (failure == null) {
                    hooks.onComplete(result);
                } else {
                    hooks.onError(failure, result);
                }
            } catch (RuntimeException e) {
                log.warn("proxy to {}: a hook failed", target, e);
            }
        }
    }

    /**
     * Settings of a {@link StreamingProxy}. Defaults: the JDK {@link HttpClient} (no redirects), connect
     * time-out 5 s, response-start time-out 30 s, idle time-out 60 s, 1,000 concurrent exchanges, request
     * bodies up to 1 GiB, {@code Retry-After} 5 s.
     */
    public static final class Builder {
        private java.util.function.Function<Builder, Upstream> upstream;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration responseTimeout = Duration.ofSeconds(30);
        private Duration idleTimeout = Duration.ofSeconds(60);
        private int maxConcurrent = 1000;
        private long maxRequestBytes = 1L << 30;
        private Duration retryAfter = Duration.ofSeconds(5);

        private Builder() {
        }

        /** The JDK client to use, shared by the whole application; its own connect time-out then applies. */
        public Builder client(HttpClient client) {
            Objects.requireNonNull(client, "client");
            this.upstream = b -> new JdkUpstream(client, b.responseTimeout);
            return this;
        }

        /**
         * Uses Jetty's {@code HttpClient} (add {@code org.eclipse.jetty:jetty-client} 12): the proxy creates one,
         * set up for proxying (no redirects, cookies, content decoding or protocol handlers), and stops it in
         * {@link StreamingProxy#close()}. Faster than the JDK client for large bodies (README, Performance).
         */
        public Builder jettyClient() {
            try {
                Class.forName("org.eclipse.jetty.client.HttpClient", false, StreamingProxy.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                throw new IllegalStateException("jettyClient() needs Jetty's HttpClient on the class path: add "
                        + "org.eclipse.jetty:jetty-client 12 (" + e + ")");
            }
            this.upstream = b -> JettyUpstream.create(b.connectTimeout, b.responseTimeout, b.idleTimeout,
                    b.maxConcurrent);
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive("connectTimeout", timeout);
            return this;
        }

        /** How long the backend may take to start its response (status and headers); 504 after it. */
        public Builder responseTimeout(Duration timeout) {
            this.responseTimeout = positive("responseTimeout", timeout);
            return this;
        }

        /** How long the backend's body may pause, and the client's body while it is forwarded. */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = positive("idleTimeout", timeout);
            return this;
        }

        /** Most exchanges at once; more are refused with 503. */
        public Builder maxConcurrent(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxConcurrent must be at least 1: " + max);
            }
            this.maxConcurrent = max;
            return this;
        }

        /** Largest request body forwarded; larger ones get 413. */
        public Builder maxRequestBytes(long max) {
            if (max < 0) {
                throw new IllegalArgumentException("maxRequestBytes must not be negative: " + max);
            }
            this.maxRequestBytes = max;
            return this;
        }

        public Builder retryAfter(Duration after) {
            this.retryAfter = Objects.requireNonNull(after, "after");
            return this;
        }

        public StreamingProxy build() {
            return new StreamingProxy(this);
        }

        private static Duration positive(String name, Duration d) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + d);
            }
            return d;
        }
    }
}
