package dev.handoff.readme;

import static java.time.Duration.ofSeconds;

import dev.handoff.core.ByteStream;
import dev.handoff.core.Handoff;
import dev.handoff.core.RequestBody;
import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import dev.handoff.proxy.ProxyHeaders;
import dev.handoff.proxy.ProxyHooks;
import dev.handoff.proxy.StreamingProxy;
import dev.handoff.redis.RedisCluster;
import dev.handoff.registry.StreamRegistry;
import dev.handoff.spring.HandoffStreams;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Flow;
import org.springframework.boot.web.embedded.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The README's shorter examples, each between {@code readme:begin <name>} and {@code readme:end <name>} in a method
 * that gives it what it uses: the build compiles them, and {@code ReadmeSnippetsTest} checks that the README shows
 * them as they are here. Not run: the quick starts are, by their own tests.
 */
final class Snippets {

    private Snippets() {
    }

    static void registry(HttpServletRequest request, String id) {
        // readme:begin registry
        StreamRegistry registry = StreamRegistry.builder()
                .replay(256, Duration.ofMinutes(5))            // per topic, for Last-Event-ID
                .maxStreams(20_000).maxStreamsPerClient(10)     // over a limit: 503 / 429 + Retry-After
                .clientKey(req -> req.getRemoteUser())          // default: the remote address
                .build();

        // GET /tasks/42/progress: hands off, subscribes, returns. The 200 goes out already subscribed.
        registry.subscribe(request, "tasks/" + id);

        // Anywhere: returns at once; delivery runs on the scheduler's pool, split over its threads.
        registry.publish("tasks/" + id, SseEvent.of("progress", "{\"pct\":42}"));

        registry.close();                                   // on shutdown: SHUTDOWN to every stream, bounded wait
        // readme:end registry
    }

    static void bodies(HttpServletRequest request, Path file) {
        // readme:begin bodies
        Handoff handoff = Handoff.from(request);
        RequestBody body = handoff.body(100 << 20);                  // Content-Length over it: 413 before a byte is read
        body.toFile(file).thenAccept(bytes -> {                      // asynchronous file I/O, one buffer at a time
            ByteStream reply = handoff.respond(201).contentType("text/plain").stream();   // from any thread
            reply.write("stored " + bytes);
            reply.close();
        });
        // readme:end bodies
    }

    static void lines(HttpServletRequest request) {
        // readme:begin lines
        Handoff.from(request).body(10 << 20).lines(64 * 1024, record -> ingest(record));   // NDJSON, a line at a time
        // readme:end lines
    }

    static void uploadWithProgress(HttpServletRequest request, Flow.Subscriber<ByteBuffer> mySubscriber) {
        // readme:begin upload-progress
        // Read an upload while streaming progress back on the same request:
        Handoff handoff = Handoff.from(request);
        RequestBody upload = handoff.body(1L << 30);
        SseStream progress = handoff.sse();
        upload.subscribe(mySubscriber);                               // onNext: progress.send(...); request(1)
        // readme:end upload-progress
    }

    private static void ingest(String record) {
    }

    static void cluster(String json) {
        // readme:begin cluster
        // Add dev.handoff:handoff-redis (Lettuce 6.6+ comes with it) and give every instance's registry the same Redis:
        StreamRegistry registry = StreamRegistry.builder()
                .cluster(RedisCluster.builder("redis://redis.internal:6379").keyPrefix("myapp:").build())
                .build();

        registry.publishAsync("chat", SseEvent.of("message", json))      // completes with the id once Redis took it
                .whenComplete((id, failure) -> { /* failure: Redis did not take it, and no instance delivered it */ });
        // readme:end cluster
    }

    static void proxy(HttpServletRequest request, URI backend) {
        // readme:begin proxy
        StreamingProxy proxy = StreamingProxy.builder().maxConcurrent(500).responseTimeout(ofSeconds(10)).build();

        // In a servlet (behind HandoffFilter): returns at once.
        proxy.forward(request, URI.create("http://reports.internal:8080" + request.getRequestURI()));

        // With hooks (run off the container thread, except target and requestHeaders):
        proxy.forward(Handoff.from(request), backend, new ProxyHooks() {
            @Override
            public void onHeaders(int status, ProxyHeaders headers) {
                headers.set("Content-Security-Policy", "sandbox");
            }

            @Override
            public Reply onResponse(int status, ProxyHeaders headers) {
                return status == 404 ? new Reply(410, "text/plain", "gone") : null;
            }
        });

        // On Jetty's HttpClient (add org.eclipse.jetty:jetty-client 12; the proxy creates, sets up and stops it):
        StreamingProxy fast = StreamingProxy.builder().jettyClient().build();
        // readme:end proxy
    }

    // readme:begin proxy-spring
    // Spring MVC: the starter registers a StreamingProxy bean (handoff.proxy.*), on Jetty's client when it is on
    // the class path (handoff.proxy.client=auto, the default; or jdk, jetty).
    @RestController
    static class Reports {
        private final HandoffStreams streams;
        private final StreamingProxy proxy;

        Reports(HandoffStreams streams, StreamingProxy proxy) {
            this.streams = streams;
            this.proxy = proxy;
        }

        @GetMapping("/reports/**")
        void reports(HttpServletRequest request) {
            proxy.forward(streams.handoff(), URI.create("http://reports.internal:8080" + request.getRequestURI()),
                    ProxyHooks.NONE);
        }
    }
    // readme:end proxy-spring

    static void unattached(HttpServletRequest request, StreamRegistry registry) {
        // readme:begin unattached
        SseStream events = Handoff.unattachedSse(64 * 1024);   // sends are kept, up to 64 KiB, until a request takes it
        events.send("hello");
        // ... later, on the request's thread:
        Handoff.from(request).attach(events);                  // the kept "hello" goes out first; the request's options apply
        // readme:end unattached
    }

    static void unattachedSubscribed(HttpServletRequest request, StreamRegistry registry, SseStream events) {
        // readme:begin unattached-registry
        registry.subscribe(Handoff.from(request), events, "news");   // or: subscribed, with Last-Event-ID catch-up
        // readme:end unattached-registry
    }

    @Configuration(proxyBeanMethods = false)
    static class TomcatBuffers {
        // readme:begin tomcat-buffers
        @Bean
        TomcatConnectorCustomizer leanStreamReadBuffers() {
            return connector -> connector.setProperty("socket.appReadBufSize", "2048");
        }
        // readme:end tomcat-buffers
    }
}
