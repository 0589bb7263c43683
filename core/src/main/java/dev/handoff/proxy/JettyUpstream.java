package dev.handoff.proxy;

import dev.handoff.core.internal.OwnerLoop;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.client.AsyncRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * {@link StreamingProxy} on Jetty's {@link HttpClient} ({@code org.eclipse.jetty:jetty-client} 12 on the class
 * path): non-blocking from socket to servlet, with demand-driven reads of the backend's body. Only this class
 * touches Jetty's types, so the proxy runs without them when another upstream is chosen.
 *
 * <p>A client this class creates is set up as a proxy's must be: no redirects followed, no cookies kept (they
 * would leak from one user to the next), no protocol handlers (100-continue, authentication), no content
 * decoding (the client gets the backend's bytes as they are) and no {@code User-Agent} of its own.
 */
final class JettyUpstream implements Upstream {

    /** Headers Jetty's client derives itself (the target's host, 100-continue). */
    private static final Set<String> CLIENT_SETS = Set.of("host", "expect");

    /**
     * The size of the pooled buffers the backend's body is read into, chosen by the container of the first
     * exchange. Where the container may send from a chunk until it is ready again (Jetty), each slow exchange holds
     * one: 32 KiB. Where it copies what its socket did not take (Tomcat), the chunk is free once written, and
     * larger reads mean fewer of Tomcat's costly write cycles: 64 KiB. Measured (bench/run proxy, 1 GiB, nginx
     * backend): Tomcat 397 MB/s with 32 KiB reads, 548 with 64; on Jetty 64 KiB reads held 110 KiB per slow
     * exchange, 32 KiB reads 62.
     */
    private static final int READ_BYTES_HELD = 32 * 1024;
    private static final int READ_BYTES_COPIED = 64 * 1024;

    private final HttpClient client;
    private final Duration responseTimeout;
    private final Duration idleTimeout;
    /** A client of our own is started by the first exchange, so that a proxy never used holds no threads. */
    private final Object startLock = new Object();
    private volatile boolean started;
    private boolean closed;

    private JettyUpstream(HttpClient client, Duration responseTimeout, Duration idleTimeout) {
        this.client = client;
        this.responseTimeout = responseTimeout;
        this.idleTimeout = idleTimeout;
    }

    /** A client of our own, configured here, started by the first exchange and stopped by {@link #close()}. */
    static JettyUpstream create(Duration connectTimeout, Duration responseTimeout, Duration idleTimeout,
            int maxConcurrent) {
        HttpClient client = new HttpClient();
        client.setName("handoff-proxy");
        client.setConnectTimeout(connectTimeout.toMillis());
        client.setFollowRedirects(false);
        client.setHttpCookieStore(new HttpCookieStore.Empty());
        client.setUserAgentField(null);
        client.setMaxConnectionsPerDestination(maxConcurrent);
        client.setMaxRequestsQueuedPerDestination(maxConcurrent);
        // Reads into pooled heap buffers, which the relay writes in place (no copy of ours) and gives back to the
        // pool when the container is done with them; an exchange holds one at a time. Their size is set by the
        // first exchange (ensureStarted).
        client.setUseInputDirectByteBuffers(false);
        return new JettyUpstream(client, responseTimeout, idleTimeout);
    }

    /** Starts a client of our own once, before its first exchange, with reads sized for that exchange's container. */
    private void ensureStarted(boolean containerHoldsChunks) {
        if (started) {
            return;
        }
        synchronized (startLock) {
            if (started) {
                return;
            }
            if (closed) {
                throw new IllegalStateException("the proxy was closed: its Jetty HttpClient is stopped");
            }
            client.setResponseBufferSize(containerHoldsChunks ? READ_BYTES_HELD : READ_BYTES_COPIED);
            try {
                client.start();
            } catch (Exception e) {
                throw new IllegalStateException("could not start Jetty's HttpClient for the proxy", e);
            }
            // Populated by start(): a proxy passes the backend's bytes and statuses on as they are.
            client.getContentDecoderFactories().clear();
            client.getProtocolHandlers().clear();
            started = true;
        }
    }

    @Override
    public void send(Request request, StreamingProxy.ProxyExchange exchange) {
        ensureStarted(request.containerHoldsChunks());
        org.eclipse.jetty.client.Request r = client.newRequest(request.uri()).method(request.method())
                .idleTimeout(Math.max(idleTimeout.toMillis(), responseTimeout.toMillis()), TimeUnit.MILLISECONDS)
                .headers(h -> request.headers().forEach((name, value) -> {
                    if (!CLIENT_SETS.contains(name.toLowerCase(Locale.ROOT))) {
                        h.add(new HttpField(name, value));
                    }
                }));
        if (request.body() != null) {
            r.body(requestContent(request.body()));
        }
        Response response = new Response(r, exchange);
        Scheduler.Task timer = client.getScheduler().schedule(() -> r.abort(new TimeoutException(
                "no response within " + responseTimeout.toMillis() + " ms (response time-out)")),
                responseTimeout.toMillis(), TimeUnit.MILLISECONDS);
        r.onResponseHeaders(resp -> {
            timer.cancel();
            response.started(resp);
        });
        r.onResponseContentSource((resp, source) -> response.body(source));
        r.send(result -> {
            timer.cancel();
            response.finished(result.getFailure());
        });
    }

    /** The client's body as Jetty request content: the next buffer is asked for when Jetty has sent the last. */
    private static AsyncRequestContent requestContent(Flow.Publisher<ByteBuffer> body) {
        AsyncRequestContent content = new AsyncRequestContent();
        body.subscribe(new Flow.Subscriber<>() {
            private Flow.Subscription subscription;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                s.request(1);
            }

            @Override
            public void onNext(ByteBuffer item) {
                content.write(item, Callback.from(() -> subscription.request(1), t -> subscription.cancel()));
            }

            @Override
            public void onError(Throwable t) {
                content.fail(t);
            }

            @Override
            public void onComplete() {
                content.close();
            }
        });
        return content;
    }

    @Override
    public String toString() {
        return "Jetty HttpClient";
    }

    @Override
    public void close() {
        synchronized (startLock) {
            closed = true;
            if (!started) {
                return; // Never used: nothing was started.
            }
        }
        try {
            client.stop();
        } catch (Exception e) {
            throw new IllegalStateException("could not stop the proxy's Jetty HttpClient", e);
        }
    }

    /** One response: its head to the exchange, its body to the subscriber the exchange returned. */
    private static final class Response {
        private final org.eclipse.jetty.client.Request request;
        private final StreamingProxy.ProxyExchange exchange;
        private volatile Flow.Subscriber<Upstream.Chunk> subscriber;
        private volatile BodyPump pump;

        Response(org.eclipse.jetty.client.Request request, StreamingProxy.ProxyExchange exchange) {
            this.request = request;
            this.exchange = exchange;
        }

        void started(org.eclipse.jetty.client.Response resp) {
            ProxyHeaders headers = new ProxyHeaders();
            resp.getHeaders().forEach(f -> headers.add(f.getName(), f.getValue()));
            try {
                subscriber = exchange.onResponseStart(resp.getStatus(), headers);
            } catch (RuntimeException e) {
                // Jetty would only log a listener's failure: end the exchange with it instead.
                request.abort(e);
            }
        }

        void body(Content.Source source) {
            Flow.Subscriber<Upstream.Chunk> s = subscriber;
            if (s == null) {
                source.fail(new CancellationException("the response was not taken"));
                return;
            }
            BodyPump p = new BodyPump(request, source, s);
            pump = p;
            s.onSubscribe(p);
        }

        /** The exchange is over on Jetty's side; a body nobody pumped ends here. */
        void finished(Throwable failure) {
            Flow.Subscriber<Upstream.Chunk> s = subscriber;
            if (s == null) {
                exchange.failed(failure != null ? failure : new IllegalStateException("no response"));
            } else if (pump == null) {
                s.onSubscribe(new Flow.Subscription() {
                    @Override
                    public void request(long n) {
                    }

                    @Override
                    public void cancel() {
                    }
                });
                if (failure == null) {
                    s.onComplete();
                } else {
                    s.onError(failure);
                }
            }
        }
    }

    /**
     * Reads the backend's body as the subscriber asks: each chunk goes to the relay as Jetty read it (a pooled
     * heap buffer, written in place and released to the pool when the container is done with it). An
     * {@link OwnerLoop}
     * runs the reading: a request or a write completion on another thread makes the running loop go round
     * again, and Jetty's data callback wakes a loop that waits for data, so nothing recurses or reads twice.
     */
    private static final class BodyPump implements Flow.Subscription, OwnerLoop.Work {
        private final org.eclipse.jetty.client.Request request;
        private final Content.Source source;
        private final Flow.Subscriber<Upstream.Chunk> subscriber;
        private final AtomicLong demand = new AtomicLong();
        private final OwnerLoop loop = new OwnerLoop("proxy body", this, false);
        private volatile boolean over;

        BodyPump(org.eclipse.jetty.client.Request request, Content.Source source,
                Flow.Subscriber<Upstream.Chunk> subscriber) {
            this.request = request;
            this.source = source;
            this.subscriber = subscriber;
        }

        @Override
        public void request(long n) {
            if (n <= 0) {
                cancel();
                subscriber.onError(new IllegalArgumentException("demand must be positive: " + n));
                return;
            }
            demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
            loop.run();
        }

        @Override
        public void cancel() {
            if (!over) {
                over = true;
                request.abort(new CancellationException("the client's stream ended"));
            }
        }

        @Override
        public OwnerLoop.Next process() {
            while (!over && demand.get() > 0) {
                Content.Chunk chunk = source.read();
                if (chunk == null) {
                    // Jetty may call back at once, on this thread: the loop then goes round instead of nesting.
                    source.demand(loop::wake);
                    return OwnerLoop.Next.WAIT;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    over = true;
                    subscriber.onError(chunk.getFailure());
                    return OwnerLoop.Next.DONE;
                }
                boolean last = chunk.isLast();
                if (chunk.hasRemaining()) {
                    demand.decrementAndGet();
                    // Handed over as it is, a pooled heap buffer: released when the container is done with it.
                    subscriber.onNext(new Upstream.Chunk(chunk.getByteBuffer(), chunk::release));
                } else {
                    chunk.release();
                }
                if (last) {
                    over = true;
                    subscriber.onComplete();
                    return OwnerLoop.Next.DONE;
                }
            }
            return over ? OwnerLoop.Next.DONE : OwnerLoop.Next.IDLE;
        }

        @Override
        public String toString() {
            return "BodyPump[demand " + demand.get() + (over ? ", over" : "") + "]";
        }
    }
}
