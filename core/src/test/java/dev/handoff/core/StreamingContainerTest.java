package dev.handoff.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.LogWatch;
import dev.handoff.core.support.Opened;
import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.StreamClient.Conn;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import dev.handoff.core.support.Together;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Many streams, slow and vanished clients, and concurrent writers, on the container of this test run
 * (pool of {@link TestServer#THREADS} threads). Prints the figures it measures.
 * */
@ExtendWith(LogWatch.class)
class StreamingContainerTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration HEARTBEAT = Duration.ofMillis(500);
    private static final int SLOW_BOUND = 32 * 1024;

    private static final BlockingQueue<SseStream> opened = new LinkedBlockingQueue<>();
    private static StreamScheduler scheduler;
    private static TestServer server;
    private static StreamClient client;

    @BeforeAll
    static void start() throws Exception {
        scheduler = StreamScheduler.create(2, Duration.ofMillis(25));
        TestApp app = new TestApp()
                .filterOptions(StreamOptions.defaults().withScheduler(scheduler))
                .route("/sse", (req, resp) -> opened.add(Handoff.from(req).sse()))
                .route("/slow", (req, resp) -> opened.add(Handoff.from(req)
                        .options(o -> o.withMaxQueuedBytes(SLOW_BOUND).withOverflow(OverflowPolicy.DISCONNECT))
                        .sse()))
                .route("/heartbeat", (req, resp) -> opened.add(Handoff.from(req)
                        .options(o -> o.withHeartbeat(HEARTBEAT)).sse()))
                .route("/busy", (req, resp) -> opened.add(Handoff.from(req)
                        .options(o -> o.withMaxQueuedBytes(64 << 20)).sse()))
                .route("/hello", (req, resp) -> {
                    resp.setContentType("text/plain");
                    resp.getOutputStream().print("ok\n");
                });
        server = TestServer.start(app);
        client = new StreamClient(server.port());
        System.out.println("[figures] container: " + server.name());
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        server.close();
        scheduler.close();
    }

    @AfterEach
    void closeStreams() {
        for (SseStream s : opened) {
            s.abort(CloseReason.SHUTDOWN, "test over");
        }
        opened.clear();
    }

    private static List<SseStream> takeOpened(int n) throws InterruptedException {
        return Opened.take(opened, n, WAIT);
    }


    private static int liveThreads() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    private static long helloMillis() throws Exception {
        long start = System.nanoTime();
        Conn hello = client.get("/hello");
        assertThat(hello.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        hello.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(hello.body()).isEqualTo("ok\n");
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void twoThousandStreamsStayOpenWhileOrdinaryRequestsAnswerAndThreadsDoNotGrow() throws Exception {
        List<Conn> first = client.openAll("/sse", 100, 100, WAIT);
        List<SseStream> streams = new ArrayList<>(takeOpened(100));
        helloMillis();
        int threadsAt100 = liveThreads();

        List<Conn> conns = new ArrayList<>(first);
        conns.addAll(client.openAll("/sse", 1900, 100, WAIT));
        streams.addAll(takeOpened(1900));
        int threadsAt2000 = liveThreads();

        long[] hello = new long[20];
        for (int i = 0; i < hello.length; i++) {
            hello[i] = helloMillis();
        }
        java.util.Arrays.sort(hello);

        SseEvent event = SseEvent.builder().id("0").data("to all").build();
        long sent = System.nanoTime();
        for (SseStream s : streams) {
            s.send(event);
        }
        long sendMillis = (System.nanoTime() - sent) / 1_000_000;
        for (Conn c : conns) {
            c.awaitEventCount(1, WAIT);
            assertThat(c.outOfOrder()).isNull();
        }
        long deliveredMillis = (System.nanoTime() - sent) / 1_000_000;
        System.out.printf("[figures] %s: 2000 streams open; live threads %d at 100 streams, %d at 2000; "
                        + "/hello p50 %d ms, max %d ms; one event to all 2000: send loop %d ms, all received %d ms%n",
                server.name(), threadsAt100, threadsAt2000, hello[hello.length / 2], hello[hello.length - 1],
                sendMillis, deliveredMillis);
        assertThat(threadsAt2000 - threadsAt100).as("threads added by 1900 more streams").isLessThanOrEqualTo(4);
        assertThat(streams).allMatch(StreamHandle::isOpen);
    }

    @Test
    void aStalledClientDoesNotDelayTheOthersAndIsClosedAsSlowConsumerWithinItsBound() throws Exception {
        int healthy = 9;
        List<Conn> conns = client.openAll("/slow", healthy, healthy, WAIT);
        // Take the healthy streams before the stalled one opens: a handler may publish its stream after
        // the client saw the response head, so the order of arrival alone does not tell them apart.
        List<SseStream> streams = new ArrayList<>(takeOpened(healthy));
        Conn stalled = client.request("GET", "/slow", 4096, false);
        assertThat(stalled.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        stalled.pause();
        SseStream stalledStream = takeOpened(1).get(0);
        streams.add(stalledStream);

        String data = "x".repeat(1024);
        // A round is a quarter of the bound: a healthy stream whose first write waits for the container's
        // first onWritePossible (late on a loaded machine) must still hold a whole round.
        int perRound = SLOW_BOUND / 4 / 1024;
        long seq = 0;
        long maxQueued = 0;
        long maxRoundMillis = 0;
        int rounds = 0;
        for (; rounds < 1000 && stalledStream.isOpen(); rounds++) {
            long roundStart = System.nanoTime();
            for (int i = 0; i < perRound; i++) {
                SseEvent e = SseEvent.builder().id(Long.toString(seq++)).data(data).build();
                for (SseStream s : streams) {
                    if (s.isOpen()) {
                        s.send(e);
                    }
                }
                maxQueued = Math.max(maxQueued, stalledStream.queuedBytes());
            }
            for (SseStream s : streams.subList(0, healthy)) {
                assertThat(s.isOpen()).as("healthy stream open after round %d, not %s", rounds,
                        s.whenClosed().toCompletableFuture().getNow(null)).isTrue();
            }
            for (Conn c : conns) {
                c.awaitEventCount(seq, WAIT);
            }
            maxRoundMillis = Math.max(maxRoundMillis, (System.nanoTime() - roundStart) / 1_000_000);
        }
        CloseStatus status = stalledStream.whenClosed().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        System.out.printf("[figures] %s: stalled client closed %s after %d rounds (%d KiB sent to each); max queued "
                        + "%d bytes (bound %d); slowest round for the 9 healthy clients %d ms%n", server.name(), status,
                rounds, seq, maxQueued, SLOW_BOUND, maxRoundMillis);
        assertThat(status.reason()).isEqualTo(CloseReason.SLOW_CONSUMER);
        assertThat(maxQueued).isLessThanOrEqualTo(SLOW_BOUND);
        // The connection's send buffer is capped (StreamOptions.DEFAULT_SOCKET_SEND_BUFFER): the stall fills the
        // queue after some hundred KiB, not after the megabytes an uncapped kernel buffer takes (2.9 MiB here).
        assertThat(seq).as("KiB sent to the stalled client before it was cut").isLessThan(1024);
        for (Conn c : conns) {
            assertThat(c.eventCount()).isEqualTo(seq);
            assertThat(c.outOfOrder()).isNull();
        }
        assertThat(streams.subList(0, healthy)).allMatch(StreamHandle::isOpen);
    }

    @Test
    void aClientThatClosesIsDetectedWithinOneHeartbeatAndItsCallbackRunsOnce() throws Exception {
        Conn closing = client.get("/heartbeat");
        Conn resetting = client.get("/heartbeat");
        assertThat(closing.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        assertThat(resetting.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        List<SseStream> streams = takeOpened(2);
        for (Conn conn : List.of(closing, resetting)) {
            boolean reset = conn == resetting;
            // Let at least one heartbeat through first, so the connection is known to be alive.
            conn.awaitComments(1, WAIT);
            SseStream stream = streamOf(streams, conn);
            AtomicInteger callbacks = new AtomicInteger();
            CountDownLatch ended = new CountDownLatch(1);
            stream.onClose(s -> {
                callbacks.incrementAndGet();
                ended.countDown();
            });
            long gone = System.nanoTime();
            if (reset) {
                conn.reset();
            } else {
                conn.close();
            }
            assertThat(ended.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            long detectedMillis = (System.nanoTime() - gone) / 1_000_000;
            CloseStatus status = stream.closeStatus().orElseThrow();
            // Every other way to end it now finds it ended.
            stream.close();
            stream.abort(CloseReason.ERROR, "late");
            System.out.printf("[figures] %s: client %s detected after %d ms (heartbeat %d ms): %s%n", server.name(),
                    reset ? "reset" : "close", detectedMillis, HEARTBEAT.toMillis(), status);
            assertThat(status.reason()).isEqualTo(CloseReason.CLIENT_GONE);
            assertThat(detectedMillis).isLessThanOrEqualTo(HEARTBEAT.toMillis() + 100);
            assertThat(callbacks.get()).isEqualTo(1);
        }
    }

    /** The server side of a client connection, matched by the client's local port. */
    private static SseStream streamOf(List<SseStream> streams, Conn conn) throws Exception {
        String port = ":" + conn.localPort() + " ";
        return streams.stream().filter(s -> s.toString().contains(port)).findFirst()
                .orElseThrow(() -> new AssertionError("no stream for client port " + port + " in " + streams));
    }

    @Test
    void sixteenThreadsWritingToOneStreamDeliverWholeEventsInEachThreadsOrder() throws Exception {
        Conn conn = client.get("/busy");
        assertThat(conn.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        SseStream stream = takeOpened(1).get(0);
        int threads = 16;
        int perThread = 500;
        Together.run(threads, WAIT, writer -> {
            for (int i = 0; i < perThread; i++) {
                stream.send(SseEvent.builder().event("w" + writer).id(Integer.toString(i))
                        .data("line one of " + writer + "/" + i + "\n" + "z".repeat(i % 97) + "\nend").build());
            }
        });
        List<Event> events = conn.awaitEvents(threads * perThread, WAIT);
        Map<String, Integer> next = new HashMap<>();
        for (Event e : events) {
            int i = Integer.parseInt(e.lastEventId());
            int expected = next.merge(e.type(), 1, Integer::sum) - 1;
            assertThat(i).as("order of %s", e.type()).isEqualTo(expected);
            String writer = e.type().substring(1);
            assertThat(e.data()).isEqualTo("line one of " + writer + "/" + i + "\n" + "z".repeat(i % 97) + "\nend");
        }
        assertThat(next).hasSize(threads).allSatisfy((k, v) -> assertThat(v).isEqualTo(perThread));
    }
}
