package dev.handoff.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.handoff.core.ByteStream;
import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.Handoff;
import dev.handoff.core.SseEvent;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.StreamScheduler;
import dev.handoff.core.support.H2Client;
import dev.handoff.core.support.H2Client.H2Stream;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import dev.handoff.proxy.StreamingProxy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.MetaData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SSE over HTTP/2 (cleartext, prior knowledge) on the container of this Maven execution: many streams share one
 * connection, a stream the client resets ends at once and alone, a stream whose window ran dry is cut alone, an
 * upload is read as it arrives (and one over its limit refused), and no HTTP/1.1 connection header is sent.
 */
class Http2ContainerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int UPLOAD_MAX = 8 << 20;
    private static final int SMALL_MAX = 64 * 1024;

    private StreamScheduler scheduler;
    private StreamRegistry registry;
    private TestServer server;
    private H2Client client;
    private final Map<Long, CloseStatus> ends = new ConcurrentHashMap<>();

    private HttpServer backend;
    private StreamingProxy proxy;

    @BeforeEach
    void start() throws Exception {
        // A backend that sends HTTP/1.1 connection headers of its own: the proxy must not pass them to an HTTP/2 client.
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        backend.createContext("/ticks", exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.getResponseHeaders().set("Keep-Alive", "timeout=5");
            exchange.getResponseHeaders().set("X-End-To-End", "kept");
            exchange.sendResponseHeaders(200, 0);
            try (var out = exchange.getResponseBody()) {
                for (int i = 0; i < 3; i++) {
                    out.write(("data: tick " + i + "\n\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
        });
        backend.start();
        proxy = StreamingProxy.builder().build();
        scheduler = StreamScheduler.create(2, Duration.ofMillis(50));
        registry = StreamRegistry.builder().scheduler(scheduler).listener(new RegistryListener() {
            @Override
            public void onClose(Subscriber subscriber, CloseStatus status) {
                ends.put(subscriber.id(), status);
            }
        }).build();
        server = TestServer.start(new TestApp().http2().filterOptions(StreamOptions.defaults().withScheduler(scheduler))
                .route("/sse", (req, resp) -> registry.subscribe(req, req.getParameter("topic")))
                .route("/proxy", (req, resp) -> proxy.forward(req, URI.create("http://127.0.0.1:"
                        + backend.getAddress().getPort() + "/ticks")))
                .route("/upload-small", (req, resp) -> {
                    Handoff handoff = Handoff.from(req);
                    handoff.body(SMALL_MAX).lines(64 * 1024, line -> { })
                            .thenAccept(lines -> handoff.respond(200).contentType("text/plain").stream().close());
                })
                .route("/upload", (req, resp) -> {
                    Handoff handoff = Handoff.from(req);
                    AtomicLong sum = new AtomicLong();
                    handoff.body(UPLOAD_MAX).lines(64 * 1024, line -> sum.addAndGet(line.length()))
                            .thenAccept(lines -> {
                                ByteStream out = handoff.respond(200).contentType("text/plain").stream();
                                out.write(lines + " lines, " + sum.get() + " characters");
                                out.close();
                            });
                }));
        client = new H2Client(server.port());
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        proxy.close();
        backend.stop(0);
        registry.shutdown(Duration.ofSeconds(2), null);
        server.close();
        scheduler.close();
    }

    private void awaitSubscribers(String topic, int n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (registry.subscribers(topic) != n) {
            assertThat(System.nanoTime()).as(n + " subscribers of " + topic + ", have " + registry.subscribers(topic))
                    .isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    /** The reason the one stream that ended gave, once its end was told to the listener. */
    private CloseReason awaitEnd() throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (ends.isEmpty()) {
            assertThat(System.nanoTime()).as("a stream's end").isLessThan(deadline);
            Thread.sleep(5);
        }
        assertThat(ends).hasSize(1);
        return ends.values().iterator().next().reason();
    }

    @Test
    void twoHundredStreamsOnOneConnectionEachGetEveryEvent() throws Exception {
        List<H2Stream> streams = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            streams.add(client.get("/sse?topic=many"));
        }
        awaitSubscribers("many", 200);
        for (int i = 0; i < 5; i++) {
            registry.publish("many", "e" + i);
        }
        for (H2Stream s : streams) {
            s.await(x -> x.events().size() >= 5, WAIT, "5 events");
            assertThat(s.events()).extracting(e -> e.data()).containsExactly("e0", "e1", "e2", "e3", "e4");
        }
        assertThat(client.openStreams()).isEqualTo(200);
        System.out.println("[figures] " + server.name() + ": 200 SSE streams on one HTTP/2 connection, 5 events each");
    }

    @Test
    void aStreamTheClientResetsEndsAtOnceAsClientGoneAndItsSiblingsGoOn() throws Exception {
        H2Stream gone = client.get("/sse?topic=reset");
        H2Stream stays = client.get("/sse?topic=reset");
        awaitSubscribers("reset", 2);
        registry.publish("reset", "before");
        gone.await(x -> x.events().size() == 1, WAIT, "the first event");
        long resetAt = System.nanoTime();
        gone.reset();
        assertThat(awaitEnd()).isEqualTo(CloseReason.CLIENT_GONE);
        System.out.println("[figures] " + server.name() + ": an HTTP/2 stream reset by the client ended as CLIENT_GONE in "
                + (System.nanoTime() - resetAt) / 1_000_000 + " ms");
        registry.publish("reset", "after");
        stays.await(x -> x.events().size() == 2, WAIT, "both events on the sibling");
        assertThat(stays.ended).isNotDone();
    }

    @Test
    void aStreamWhoseWindowRanDryIsCutAsASlowConsumerWhileItsSiblingsGoOn() throws Exception {
        try (H2Client small = new H2Client(server.port(), 65_535)) {
            H2Stream stalled = small.get("/sse?topic=window");
            H2Stream reading = small.get("/sse?topic=window");
            awaitSubscribers("window", 2);
            stalled.pause();
            // Comments: no ring keeps them, so the stream's queue bound applies once its window is dry. Published
            // at the pace of the reading sibling (a few ahead, far less than its queue holds).
            String filler = "x".repeat(4000);
            int sent = 0;
            for (; sent < 5_000 && registry.subscribers("window") == 2; sent++) {
                registry.publish("window", SseEvent.builder().comment(filler).build());
                if (sent % 4 == 3) {
                    int expected = sent + 1;
                    reading.await(x -> x.comments().size() >= expected, WAIT, expected + " comments on the sibling");
                }
            }
            assertThat(awaitEnd()).isEqualTo(CloseReason.SLOW_CONSUMER);
            int all = sent;
            reading.await(x -> x.comments().size() >= all, WAIT, "every comment on the sibling");
            assertThat(small.isOpen()).as("the connection").isTrue();
            System.out.println("[figures] " + server.name() + ": HTTP/2 stream with a 64 KiB window cut after "
                    + sent + " comments of 4 KB; its sibling got them all");
        }
    }

    @Test
    void manySmallEventsAndHeartbeatsDoNotMakeTheContainerDropTheConnection() throws Exception {
        H2Stream s = client.get("/sse?topic=small");
        awaitSubscribers("small", 1);
        for (int i = 0; i < 3_000; i++) {
            registry.publish("small", "e" + i);
        }
        s.await(x -> x.events().size() == 3_000, WAIT, "3,000 small events");
        H2Stream after = client.get("/sse?topic=small-after");
        awaitSubscribers("small-after", 1);
        registry.publish("small-after", "still served");
        after.await(x -> x.events().size() == 1, WAIT, "an event on a new stream of the same connection");
        assertThat(client.isOpen()).isTrue();
    }

    /**
     * Heartbeats to a client that credits every DATA frame it reads with a WINDOW_UPDATE, however small. Tomcat
     * counts a connection-level increment under {@code overheadWindowUpdateThreshold} (1,024 bytes) as overhead, by
     * how small it is: with its defaults, the first heartbeat's update (a few bytes) closes the connection with
     * ENHANCE_YOUR_CALM. Browsers and the JDK's and Jetty's clients credit about half a window at a time, which
     * heartbeats never reach; for clients that do not, the setting below (README, HTTP/2) keeps the connection.
     */
    @Test
    void heartbeatsToAClientThatCreditsEveryFrameKeepTheConnection() throws Exception {
        try (TestServer lenient = TestServer.start(new TestApp().http2().tomcatHttp2("overheadWindowUpdateThreshold", "0")
                .filterOptions(StreamOptions.defaults().withScheduler(scheduler).withHeartbeat(Duration.ofMillis(1)))
                .route("/heartbeats", (req, resp) -> Handoff.from(req).sse()));
                H2Client eager = new H2Client(lenient.port(), 0, true)) {
            H2Stream s = eager.get("/heartbeats");
            s.await(x -> x.comments().size() >= 40 || x.ended.isDone(), WAIT, "40 heartbeats");
            assertThat(s.ended).as("the stream").isNotDone();
            assertThat(eager.isOpen()).as("the connection").isTrue();
        }
    }

    @Test
    void anUploadIsReadAsItArrivesOverHttp2() throws Exception {
        byte[] lines = ("x".repeat(1023) + "\n").repeat(4096).getBytes(StandardCharsets.US_ASCII); // 4 MiB
        H2Stream upload = client.post("/upload", lines);
        MetaData.Response head = upload.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(head.getStatus()).isEqualTo(200);
        upload.await(x -> x.ended.isDone(), WAIT, "the answer");
        assertThat(upload.body()).isEqualTo("4096 lines, " + 4096 * 1023 + " characters");
    }

    @Test
    void anUploadOverItsLimitIsRefusedOverHttp2WithNoConnectionHeader() throws Exception {
        byte[] tooMuch = new byte[SMALL_MAX + 1];
        java.util.Arrays.fill(tooMuch, (byte) 'y');
        H2Stream refused = client.post("/upload-small", tooMuch);
        MetaData.Response refusal = refused.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(refusal.getStatus()).isEqualTo(413);
        // On HTTP/1.1 a 413 says Connection: close; HTTP/2 has no such header (Tomcat hung the stream on it).
        assertThat(refusal.getHttpFields().get("connection")).isNull();
        refused.await(x -> x.ended.isDone(), WAIT, "the refusal's end");
        assertThat(refused.body()).contains("over this endpoint's limit of " + SMALL_MAX);
    }

    /**
     * Refused uploads, each with a window's worth of DATA already on its way, leave the connection and its other
     * streams alone. On Tomcat a stream closed before it took a DATA frame had no flow-control window left: each
     * frame in flight got a RST_STREAM, which Tomcat's overhead protection counts, and a few refusals (3 to 100,
     * by timing) closed the connection with ENHANCE_YOUR_CALM. Twenty: Jetty closes a connection that sends more
     * than 128 frames a second to closed streams (its rate control), which a burst of fifty refusals reaches.
     */
    @Test
    void refusedUploadsLeaveTheConnectionAndItsOtherStreamsAlone() throws Exception {
        H2Stream sibling = client.get("/sse?topic=refusals");
        awaitSubscribers("refusals", 1);
        byte[] tooMuch = new byte[SMALL_MAX + 1];
        for (int i = 0; i < 20; i++) {
            H2Stream refused = client.post("/upload-small", tooMuch);
            assertThat(refused.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).getStatus()).as("refusal " + i).isEqualTo(413);
            refused.await(x -> x.ended.isDone(), WAIT, "refusal " + i + "'s end");
            assertThat(client.isOpen()).as("the connection after refusal " + i).isTrue();
        }
        registry.publish("refusals", "still here");
        sibling.await(x -> x.events().size() == 1, WAIT, "the sibling's event after the refusals");
        H2Stream upload = client.post("/upload", "a\nb\n".getBytes(StandardCharsets.US_ASCII));
        upload.await(x -> x.ended.isDone(), WAIT, "an upload on the same connection");
        assertThat(upload.body()).isEqualTo("2 lines, 2 characters");
    }

    @Test
    void theProxyRelaysToAnHttp2ClientWithoutTheBackendsConnectionHeaders() throws Exception {
        H2Stream relayed = client.get("/proxy");
        MetaData.Response head = relayed.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(head.getStatus()).isEqualTo(200);
        assertNoConnectionHeaders(head);
        assertThat(head.getHttpFields().get("x-end-to-end")).isEqualTo("kept");
        relayed.await(x -> x.ended.isDone(), WAIT, "the relayed stream's end");
        assertThat(relayed.events()).extracting(e -> e.data()).containsExactly("tick 0", "tick 1", "tick 2");
        assertThat(relayed.ended.get()).isEqualTo("complete");
    }

    /** HTTP/1.1's connection headers have no place in HTTP/2 (RFC 9113, 8.2.2). */
    private static void assertNoConnectionHeaders(MetaData.Response head) {
        assertThat(head.getHttpFields().stream().map(HttpField::getLowerCaseName))
                .doesNotContain("connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection");
    }

    @Test
    void noHttp11ConnectionHeaderGoesOutOnHttp2() throws Exception {
        H2Stream s = client.get("/sse?topic=headers");
        MetaData.Response head = s.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(head.getStatus()).isEqualTo(200);
        assertNoConnectionHeaders(head);
        assertThat(head.getHttpFields().contains("content-type")).isTrue();
        assertThat(head.getHttpFields().get("content-type")).startsWith("text/event-stream");
    }
}
