package dev.handoff.proxy;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link StreamingProxy} on the JDK's {@link HttpClient}: the default, with nothing to add to the class path. */
final class JdkUpstream implements Upstream {

    private static final Logger log = LoggerFactory.getLogger(JdkUpstream.class);

    private static final AtomicInteger POOLS = new AtomicInteger();
    /** Headers the JDK client sets itself and refuses from applications. */
    private static final Set<String> CLIENT_SETS = Set.of("host", "content-length", "expect", "connection", "upgrade");

    /** The client, or where the proxy makes its own, what builds it on the first exchange (it starts a thread). */
    private final java.util.function.Supplier<HttpClient> clientSource;
    private volatile HttpClient client;
    private final Duration responseTimeout;
    /** Whether the client is the proxy's own, which it shuts down in {@link #close()}; the application's it leaves. */
    private final boolean ours;
    /** Where the relays' demand reaches the client ({@link Demand}); made by the first exchange. */
    private ThreadPoolExecutor demandThreads;

    JdkUpstream(HttpClient client, Duration responseTimeout) {
        this.client = client;
        this.clientSource = () -> client;
        this.responseTimeout = responseTimeout;
        this.ours = false;
    }

    /** A client of the proxy's own, built by the first exchange, so that a proxy never used holds no thread. */
    JdkUpstream(java.util.function.Supplier<HttpClient> clientSource, Duration responseTimeout) {
        this.clientSource = clientSource;
        this.responseTimeout = responseTimeout;
        this.ours = true;
    }

    private HttpClient client() {
        HttpClient c = client;
        if (c == null) {
            synchronized (this) {
                c = client;
                if (c == null) {
                    c = clientSource.get();
                    client = c;
                }
            }
        }
        return c;
    }

    @Override
    public void send(Request request, StreamingProxy.ProxyExchange exchange) {
        HttpRequest.BodyPublisher body = request.body() == null ? HttpRequest.BodyPublishers.noBody()
                : request.contentLength() >= 0 ? HttpRequest.BodyPublishers.fromPublisher(request.body(),
                        request.contentLength())
                : HttpRequest.BodyPublishers.fromPublisher(request.body());
        HttpRequest.Builder builder = HttpRequest.newBuilder(request.uri()).timeout(responseTimeout)
                .method(request.method(), body);
        request.headers().forEach((name, value) -> {
            if (!CLIENT_SETS.contains(name.toLowerCase(Locale.ROOT))) {
                builder.header(name, value);
            }
        });
        Executor demand = demandThreads();
        client().sendAsync(builder.build(), info -> {
            ProxyHeaders headers = new ProxyHeaders();
            info.headers().map().forEach((name, values) -> {
                if (!name.startsWith(":")) {
                    values.forEach(v -> headers.add(name, v));
                }
            });
            return HttpResponse.BodySubscribers.fromSubscriber(new Chunks(exchange.onResponseStart(info.statusCode(),
                    headers), demand), s -> null);
        }).whenComplete((response, failure) -> {
            if (failure != null) {
                exchange.failed(failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure);
            }
        });
    }

    /**
     * A few daemon threads, as many as the machine has cores, that only carry demand: each task asks the JDK for one
     * chunk and writes it on. Idle ones end after 30 s, so an idle proxy holds none. The queue holds at most one task
     * per open exchange (a relay asks for the next chunk only once it has the last).
     */
    synchronized Executor demandThreads() {
        if (demandThreads == null) {
            int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
            String prefix = "handoff-proxy-demand-" + POOLS.incrementAndGet() + "-";
            AtomicInteger count = new AtomicInteger();
            ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), r -> {
                        Thread t = new Thread(r, prefix + count.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
            pool.allowCoreThreadTimeOut(true);
            demandThreads = pool;
        }
        return demandThreads;
    }

    @Override
    public String toString() {
        return "the JDK HttpClient";
    }

    /**
     * The relay's demand, passed to the JDK's body subscription from one of {@link #demandThreads()}, never from the
     * thread that asks.
     *
     * <p>Why: the JDK's HTTP/1.1 receiver runs its delivery loop on the thread that calls {@code request(n)}, and
     * asks the socket for one more read each time its queue of read buffers runs empty while the subscriber has
     * demand, without counting the reads it already asked for ({@code Http1AsyncReceiver.flush} and
     * {@code checkRequestMore}, JDK 17 to 25). A relay asks for the next chunk as soon as the container took the
     * last: on Jetty, the writer's own thread, in a tight loop while the client's socket still has room. That loop
     * empties the receiver's queue again and again while the client's one selector thread, shared by every
     * backend connection, has not yet delivered the reads already asked for; the reads pile up in flight, and when
     * the client stops taking they all land in the queue. {@code bench/run proxy}, 200 clients at 64 KiB/s on a
     * Jetty server: 2.5 to 3.1 MB of the backend's body queued per exchange (1.1 to 1.25 MB on Tomcat, whose write
     * completes inside the delivery). Asked from a thread of ours, the demand mostly reaches the JDK after its loop
     * has returned: 0.2 to 0.35 MB (0.1 to 0.45 on Tomcat), {@code bench/results/proxy/jdk-demand.md}.
     *
     * <p>{@code cancel} goes straight through: an exchange ends at once. A request after {@link #close()}
     * cancels.
     */
    record Demand(Flow.Subscription jdk, Executor threads) implements Flow.Subscription {
        @Override
        public void request(long n) {
            try {
                threads.execute(() -> jdk.request(n));
            } catch (RejectedExecutionException closed) {
                jdk.cancel();
            }
        }

        @Override
        public void cancel() {
            jdk.cancel();
        }
    }

    /**
     * The JDK client's lists of buffers as chunks, one per list, the demand passed through: its buffers are the
     * subscriber's once passed (HttpResponse.BodySubscriber), so a list of one goes over as it is and a longer
     * one is joined into one array.
     */
    private static final class Chunks implements Flow.Subscriber<List<ByteBuffer>> {
        private final Flow.Subscriber<Upstream.Chunk> relay;
        private final Executor demandThreads;

        Chunks(Flow.Subscriber<Upstream.Chunk> relay, Executor demandThreads) {
            this.relay = relay;
            this.demandThreads = demandThreads;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            relay.onSubscribe(new Demand(s, demandThreads));
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (items.size() == 1) {
                relay.onNext(Upstream.Chunk.owned(items.get(0)));
                return;
            }
            int size = 0;
            for (ByteBuffer item : items) {
                size += item.remaining();
            }
            ByteBuffer joined = ByteBuffer.allocate(size);
            items.forEach(joined::put);
            relay.onNext(Upstream.Chunk.owned(joined.flip()));
        }

        @Override
        public void onError(Throwable t) {
            relay.onError(t);
        }

        @Override
        public void onComplete() {
            relay.onComplete();
        }
    }

    /**
     * Stops the demand threads, and shuts the proxy's own client down where the JDK can (Java 21's
     * {@code HttpClient.shutdownNow()}, reached by reflection: the library runs on 17), so that an application
     * undeployed from a container leaves no thread of it behind; on Java 17 the client's threads end when it is
     * collected.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (demandThreads != null) {
                demandThreads.shutdownNow();
            }
        }
        HttpClient c = client;
        if (!ours || c == null) {
            return;
        }
        try {
            HttpClient.class.getMethod("shutdownNow").invoke(c);
        } catch (NoSuchMethodException java17) {
            // Nothing to call: the client's threads end with it.
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("could not shut the proxy's JDK client down: {}", e.toString());
        }
    }
}
