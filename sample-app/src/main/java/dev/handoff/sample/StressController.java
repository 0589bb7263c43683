package dev.handoff.sample;

import dev.handoff.core.CloseReason;
import dev.handoff.core.StreamScheduler;
import dev.handoff.spring.EventStream;
import dev.handoff.spring.HandoffStreams;
import jakarta.annotation.PreDestroy;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The page's stress button: the server opens a few hundred SSE streams to itself (a browser may hold only six
 * HTTP/1.1 connections to one server), ticks each five times a second for {@value #SECONDS} seconds, then closes
 * them. The page's figures show the open streams jump while the request threads inside the application stay
 * where they were: a stream holds no thread. The client side runs on two threads of its own.
 */
@RestController
class StressController {

    static final int MAX_STREAMS = 1000;
    static final int SECONDS = 30;
    static final String TOPIC = "stress";

    private final HandoffStreams streams;
    private final StreamScheduler scheduler;
    private ExecutorService clientThreads;
    /** Made by the first stress run, so that an application that never runs one holds none of its threads. */
    private HttpClient client;
    private final AtomicLong received = new AtomicLong();
    private ScheduledFuture<?> ticking;
    private ScheduledFuture<?> ending;

    StressController(HandoffStreams streams, StreamScheduler scheduler) {
        this.streams = streams;
        this.scheduler = scheduler;
    }

    /** One of the stress streams. */
    @GetMapping(path = "/api/stress/stream", produces = "text/event-stream")
    EventStream stream() {
        return streams.subscribe(TOPIC);
    }

    /** Opens {@code streams} streams to this server (at most {@value #MAX_STREAMS}), answering once all are open. */
    @PostMapping("/api/stress")
    synchronized ResponseEntity<Map<String, Object>> start(@RequestParam(defaultValue = "300") int streams,
            HttpServletRequest request) {
        if (streams < 1 || streams > MAX_STREAMS) {
            return ResponseEntity.badRequest().body(Map.of("error", "between 1 and " + MAX_STREAMS + " streams"));
        }
        if (ticking != null && !ticking.isDone()) {
            return ResponseEntity.status(409).body(Map.of("error", "a stress run is going on; stop it first"));
        }
        if (client == null) {
            clientThreads = Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "stress-client");
                t.setDaemon(true);
                return t;
            });
            client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(clientThreads)
                    .connectTimeout(Duration.ofSeconds(5)).build();
        }
        URI uri = URI.create("http://127.0.0.1:" + request.getLocalPort() + request.getContextPath() + "/api/stress/stream");
        long started = System.nanoTime();
        // ofPublisher: the response is there once its head is (a subscriber-based handler would wait for its end).
        List<CompletableFuture<HttpResponse<Flow.Publisher<List<ByteBuffer>>>>> opened = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            opened.add(client.sendAsync(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofPublisher())
                    .thenApply(r -> {
                        r.body().subscribe(new EventCounter());
                        return r;
                    }));
        }
        int ok = 0;
        for (CompletableFuture<HttpResponse<Flow.Publisher<List<ByteBuffer>>>> f : opened) {
            try {
                ok += f.get(30, TimeUnit.SECONDS).statusCode() == 200 ? 1 : 0;
            } catch (Exception e) {
                // Counted as not opened.
            }
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        AtomicLong tick = new AtomicLong();
        ticking = scheduler.executor().scheduleAtFixedRate(
                () -> this.streams.publish(TOPIC, "tick", Map.of("tick", tick.incrementAndGet())), 200, 200,
                TimeUnit.MILLISECONDS);
        ending = scheduler.executor().schedule(this::stop, SECONDS, TimeUnit.SECONDS);
        return ResponseEntity.ok(Map.of("opened", ok, "millis", millis, "seconds", SECONDS));
    }

    /** Ends the stress run: its streams complete. */
    @DeleteMapping("/api/stress")
    synchronized Map<String, Object> stop() {
        if (ticking != null) {
            ticking.cancel(false);
            ending.cancel(false);
        }
        int open = streams.registry().subscribers(TOPIC);
        streams.registry().closeTopic(TOPIC, CloseReason.COMPLETED, "the stress run ended");
        return Map.of("closed", open, "eventsReceived", received.get());
    }

    /** Reads a stress stream as it comes and counts its events (each ends with a blank line). */
    private final class EventCounter implements Flow.Subscriber<List<ByteBuffer>> {
        private byte last;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer b : buffers) {
                while (b.hasRemaining()) {
                    byte c = b.get();
                    if (c == '\n' && last == '\n') {
                        received.incrementAndGet();
                    }
                    last = c;
                }
            }
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onComplete() {
        }
    }

    /** At shutdown the registry ends the streams; the ticks and the client stop here. */
    @PreDestroy
    synchronized void close() {
        if (ticking != null) {
            ticking.cancel(false);
            ending.cancel(false);
        }
        if (client != null) {
            try {
                HttpClient.class.getMethod("shutdownNow").invoke(client); // Java 21+; on 17 it ends when collected
            } catch (ReflectiveOperationException e) {
                // Java 17: nothing to call.
            }
            clientThreads.shutdownNow();
        }
    }
}
