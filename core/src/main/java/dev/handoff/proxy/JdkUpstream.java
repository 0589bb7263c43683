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
import java.util.concurrent.Flow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link StreamingProxy} on the JDK's {@link HttpClient}: the default, with nothing to add to the class path. */
final class JdkUpstream implements Upstream {

    private static final Logger log = LoggerFactory.getLogger(JdkUpstream.class);

    /** Headers the JDK client sets itself and refuses from applications. */
    private static final Set<String> CLIENT_SETS = Set.of("host", "content-length", "expect", "connection", "upgrade");

    /** The client, or where the proxy makes its own, what builds it on the first exchange (it starts a thread). */
    private final java.util.function.Supplier<HttpClient> clientSource;
    private volatile HttpClient client;
    private final Duration responseTimeout;
    /** Whether the client is the proxy's own, which it shuts down in {@link #close()}; the application's it leaves. */
    private final boolean ours;

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
        client().sendAsync(builder.build(), info -> {
            ProxyHeaders headers = new ProxyHeaders();
            info.headers().map().forEach((name, values) -> {
                if (!name.startsWith(":")) {
                    values.forEach(v -> headers.add(name, v));
                }
            });
            return HttpResponse.BodySubscribers.fromSubscriber(new Chunks(exchange.onResponseStart(info.statusCode(),
                    headers)), s -> null);
        }).whenComplete((response, failure) -> {
            if (failure != null) {
                exchange.failed(failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure);
            }
        });
    }

    @Override
    public String toString() {
        return "the JDK HttpClient";
    }

    /**
     * The JDK client's lists of buffers as chunks, one per list, the demand passed through: its buffers are the
     * subscriber's once passed (HttpResponse.BodySubscriber), so a list of one goes over as it is and a longer
     * one is joined into one array.
     */
    private static final class Chunks implements Flow.Subscriber<List<ByteBuffer>> {
        private final Flow.Subscriber<Upstream.Chunk> relay;

        Chunks(Flow.Subscriber<Upstream.Chunk> relay) {
            this.relay = relay;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            relay.onSubscribe(s);
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
     * Shuts the proxy's own client down where the JDK can (Java 21's {@code HttpClient.shutdownNow()}, reached by
     * reflection: the library runs on 17), so that an application undeployed from a container leaves no thread
     * of it behind; on Java 17 its threads end when it is collected.
     */
    @Override
    public void close() {
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
