package dev.handoff.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.Handoff;
import dev.handoff.core.HandoffRejectedException;
import dev.handoff.core.OverflowPolicy;
import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import dev.handoff.core.StreamHandle;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.StreamScheduler;
import dev.handoff.core.support.LogWatch;
import dev.handoff.core.support.Opened;
import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.StreamClient.Conn;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The stream registry on a real container: fan-out to thousands of subscribers, slow subscribers, replay
 * across reconnects, limits and shutdown (that a broadcast shares one frame is FanOutTest's). Prints the
 * figures it measures.
 */
@ExtendWith(LogWatch.class)
class RegistryContainerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String HELLO = "/hello";

    private static volatile StreamRegistry registry;
    private static final BlockingQueue<SseStream> opened = new LinkedBlockingQueue<>();
    private static StreamScheduler scheduler;
    private static TestServer server;
    private StreamClient client;

    @BeforeAll
    static void start() throws Exception {
        scheduler = StreamScheduler.create(2, Duration.ofMillis(25));
        TestApp app = new TestApp()
                .filterOptions(StreamOptions.defaults().withScheduler(scheduler))
                .route("/sub", (req, resp) -> opened.add(registry.subscribe(req, req.getParameterValues("topic"))))
                // A stream made before the handoff, as the starter's controllers make them.
                .route("/sub-later", (req, resp) -> opened.add(registry.subscribe(Handoff.from(req),
                        Handoff.unattachedSse(64 * 1024), req.getParameterValues("topic"))))
                .route(HELLO, (req, resp) -> resp.getOutputStream().print("ok\n"));
        server = TestServer.start(app);
        System.out.println("[figures] container: " + server.name());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        scheduler.close();
    }

    @BeforeEach
    void newClient() throws Exception {
        // Events carry their sequence number as the first word of their data; the registry chooses the ids.
        client = new StreamClient(server.port()).sequenceBy(e -> {
            int space = e.data().indexOf(' ');
            return space < 0 ? e.data() : e.data().substring(0, space);
        });
    }

    @AfterEach
    void shutDownRegistry() throws Exception {
        if (registry != null) {
            registry.shutdown(Duration.ofSeconds(5), null);
            registry = null;
        }
        opened.clear();
        client.close();
    }

    private static StreamRegistry use(StreamRegistry.Builder builder) {
        registry = builder.scheduler(scheduler).build();
        return registry;
    }


    private static List<SseStream> takeOpened(int n) throws InterruptedException {
        return Opened.take(opened, n, WAIT);
    }

    private static String padded(long seq, int size) {
        String n = Long.toString(seq);
        return size <= n.length() ? n : n + " " + "x".repeat(size - n.length() - 1);
    }

    @Test
    void aBurstOfLargeEventsPublishedAsFastAsPossibleReachesEverySubscriber() throws Exception {
        // The bench's burst in small, on streams made before the handoff as the starter's are: runs of 4 KiB
        // events published far faster than the clients read, with a ring that holds them all, so that streams
        // fall behind onto the ring and catch up; every client must end at the last event.
        int subscribers = 200;
        int events = 1024;
        int size = 4096;
        use(StreamRegistry.builder().replay(events, Duration.ZERO));
        List<Conn> conns = client.openAll("/sub-later?topic=burst", subscribers, 200, WAIT);
        List<SseStream> streams = takeOpened(subscribers);
        String lastId = null;
        for (long seq = 0; seq < events; seq++) {
            lastId = registry.publish("burst", padded(seq, size));
        }
        String last = lastId;
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<String> stuck = new ArrayList<>();
        for (int i = 0; i < subscribers; i++) {
            Conn c = conns.get(i);
            try {
                c.awaitCondition(x -> last.equals(x.lastEventId()), Duration.ofNanos(Math.max(1,
                        deadline - System.nanoTime())), "the last event " + last);
            } catch (AssertionError e) {
                stuck.add(streams.get(i) + ": " + e.getMessage());
            }
        }
        assertThat(stuck).as("streams whose client did not get the last event").isEmpty();
        assertThat(streams).allMatch(StreamHandle::isOpen);
    }

    @Test
    void fiveThousandSubscribersGetEveryEventInOrderAndPublishDoesNotWaitForThem() throws Exception {
        int subscribers = 5000;
        int events = 100;
        use(StreamRegistry.builder());
        List<Conn> conns = client.openAll("/sub?topic=all", subscribers, 500, WAIT);
        assertThat(registry.subscribers("all")).isEqualTo(subscribers);

        // Occupy every pool thread: if publish delivered on the caller's thread, or waited for delivery,
        // events would arrive (or publish would not return) while the pool is held.
        CountDownLatch release = holdPool();
        long publishNanos;
        try {
            publishNanos = CompletableFuture.supplyAsync(() -> {
                long start = System.nanoTime();
                for (int i = 0; i < events; i++) {
                    registry.publish("all", Integer.toString(i));
                }
                return System.nanoTime() - start;
            }).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(registry.stats().eventsDelivered()).as("delivered while the pool was held").isZero();
        } finally {
            release.countDown();
        }
        long released = System.nanoTime();
        for (Conn c : conns) {
            c.awaitEventCount(events, WAIT);
        }
        long deliveredNanos = System.nanoTime() - released;
        for (Conn c : conns) {
            assertThat(c.eventCount()).isEqualTo(events);
            assertThat(c.outOfOrder()).isNull();
        }
        // The fan-out counts a batch after queuing it, so the count may trail the clients by a moment.
        Awaitility.await().atMost(WAIT).until(() -> registry.stats().eventsDelivered() == (long) subscribers * events);
        RegistryStats stats = registry.stats();
        assertThat(stats.eventsPublished()).isEqualTo(events);
        assertThat(stats.eventsDropped()).isZero();
        System.out.printf("[figures] %s: %d subscribers x %d events: %d publish calls took %.2f ms in all; "
                        + "all %d deliveries received %d ms after the pool was freed (%.0f events/s delivered)%n",
                server.name(), subscribers, events, events, publishNanos / 1e6, (long) subscribers * events,
                deliveredNanos / 1_000_000, subscribers * (double) events / (deliveredNanos / 1e9));
    }

    /** Occupies every thread of the scheduler's pool until the returned latch is counted down. */
    private static CountDownLatch holdPool() throws InterruptedException {
        CountDownLatch held = new CountDownLatch(scheduler.parallelism());
        CountDownLatch release = new CountDownLatch(1);
        for (int i = 0; i < scheduler.parallelism(); i++) {
            scheduler.executor().execute(() -> {
                held.countDown();
                awaitQuietly(release);
            });
        }
        assertThat(held.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        return release;
    }

    @Test
    void aBacklogIsDeliveredAsRunsYetEachStreamGetsOnlyTheEventsOfItsSubscription() throws Exception {
        use(StreamRegistry.builder());
        // Three streams per role, so that every fan-out stripe holds some of each; the second topic names the role.
        String[] roles = {"stay", "leave", "join"};
        List<Conn> conns = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            String role = roles[i / 3];
            conns.add(client.get(role.equals("join") ? "/sub?topic=join" : "/sub?topic=t&topic=" + role));
            conns.get(i).head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        List<SseStream> leavers = new ArrayList<>();
        List<SseStream> joiners = new ArrayList<>();
        for (SseStream stream : takeOpened(9)) {
            Set<String> topics = registry.subscriber(stream).orElseThrow().topics();
            (topics.contains("leave") ? leavers : topics.contains("join") ? joiners : new ArrayList<SseStream>())
                    .add(stream);
        }
        assertThat(leavers).hasSize(3);
        assertThat(joiners).hasSize(3);
        CountDownLatch release = holdPool();
        try {
            // Held pool: every event waits in the mailboxes, so the stripes find them back to back.
            for (int i = 0; i < 40; i++) {
                if (i == 10) {
                    for (SseStream joiner : joiners) {
                        assertThat(registry.subscribe(joiner, "t")).isTrue();
                    }
                }
                if (i == 30) {
                    for (SseStream leaver : leavers) {
                        assertThat(registry.unsubscribe(leaver, "t")).isTrue();
                    }
                }
                registry.publish("t", Integer.toString(i));
            }
            assertThat(registry.stats().eventsDelivered()).as("delivered while the pool was held").isZero();
        } finally {
            release.countDown();
        }
        // Then one more event for the topic: it follows every run in every mailbox.
        registry.publish("t", "last");
        List<String> all = numbers(0, 40);
        for (int i = 0; i < 9; i++) {
            List<String> expected = new ArrayList<>(i < 3 ? all : i < 6 ? numbers(0, 30) : numbers(10, 40));
            if (i < 3 || i >= 6) {
                expected.add("last");
            }
            assertThat(conns.get(i).awaitEvents(expected.size(), WAIT)).as("stream %d", i)
                    .extracting(Event::data).containsExactlyElementsOf(expected);
        }
        long expectedDeliveries = 3 * 41 + 3 * 30 + 3 * 31;
        Awaitility.await().atMost(WAIT).until(() -> registry.stats().eventsDelivered() >= expectedDeliveries);
        assertThat(registry.stats().eventsDelivered()).isEqualTo(expectedDeliveries);
        for (int i = 3; i < 6; i++) {
            assertThat(conns.get(i).events()).as("leaver %d", i).extracting(Event::data)
                    .containsExactlyElementsOf(numbers(0, 30));
        }
    }

    private static List<String> numbers(int from, int to) {
        List<String> list = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            list.add(Integer.toString(i));
        }
        return list;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void stalledSubscribersAreClosedAsSlowConsumersWithinTheirBoundWhileTheRestGetEveryEvent() throws Exception {
        int healthyCount = 90;
        int stalledCount = 10;
        int eventSize = 4096;
        int bound = 64 * 1024;
        int perRound = 8;
        // A full queue does not cut a registry stream (it reads on from the ring); no progress for a second does.
        use(StreamRegistry.builder().streamOptions(o -> o.withMaxQueuedBytes(bound)
                .withOverflow(OverflowPolicy.DISCONNECT).withWriteTimeout(Duration.ofSeconds(1))));
        List<Conn> healthy = client.openAll("/sub?topic=feed", healthyCount, healthyCount, WAIT);
        List<SseStream> healthyStreams = takeOpened(healthyCount);
        List<Conn> stalled = new ArrayList<>();
        for (int i = 0; i < stalledCount; i++) {
            Conn c = client.request("GET", "/sub?topic=feed", 4096, false);
            assertThat(c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
            c.pause();
            stalled.add(c);
        }
        List<SseStream> stalledStreams = takeOpened(stalledCount);

        long seq = 0;
        long maxQueued = 0;
        List<Long> roundMillis = new ArrayList<>();
        for (int round = 0; round < 2000 && stalledStreams.stream().anyMatch(StreamHandle::isOpen); round++) {
            long roundStart = System.nanoTime();
            for (int i = 0; i < perRound; i++) {
                registry.publish("feed", padded(seq++, eventSize));
                for (SseStream s : stalledStreams) {
                    maxQueued = Math.max(maxQueued, s.queuedBytes());
                }
            }
            for (Conn c : healthy) {
                c.awaitEventCount(seq, WAIT);
            }
            roundMillis.add((System.nanoTime() - roundStart) / 1_000_000);
        }
        for (SseStream s : stalledStreams) {
            CloseStatus status = s.whenClosed().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(status.reason()).isEqualTo(CloseReason.SLOW_CONSUMER);
        }
        assertThat(maxQueued).as("bytes queued for a stalled subscriber").isLessThanOrEqualTo(bound);
        for (Conn c : healthy) {
            assertThat(c.eventCount()).isEqualTo(seq);
            assertThat(c.outOfOrder()).isNull();
        }
        assertThat(healthyStreams).allMatch(StreamHandle::isOpen);
        assertThat(registry.subscribers("feed")).isEqualTo(healthyCount);
        assertThat(registry.stats().closes().get(CloseReason.SLOW_CONSUMER)).isEqualTo(stalledCount);
        List<Long> sorted = new ArrayList<>(roundMillis);
        sorted.sort(null);
        System.out.printf("[figures] %s: %d stalled of %d subscribers closed SLOW_CONSUMER after %d events of %d B "
                        + "(%d KiB each); max queued %d B (bound %d); healthy rounds of %d events: p50 %d ms, max %d ms, "
                        + "%d rounds%n", server.name(), stalledCount, healthyCount + stalledCount, seq, eventSize,
                seq * eventSize / 1024, maxQueued, bound, perRound, sorted.get(sorted.size() / 2),
                sorted.get(sorted.size() - 1), sorted.size());
    }

    /** Publishes {@code n} events of {@code size} bytes numbered from {@code first}; returns their ids. */
    private static List<String> publishNumbered(String topic, long first, int n, int size) {
        List<String> ids = new ArrayList<>(n);
        for (long seq = first; seq < first + n; seq++) {
            ids.add(registry.publish(topic, padded(seq, size)));
        }
        return ids;
    }

    @Test
    void aReconnectWithFourMiBOfBacklogGetsExactlyTheEventsAfterItsIdThroughA64KiBBoundTwentyTimesInARow()
            throws Exception {
        int backlog = 1000;
        int eventSize = 4096;
        int bound = 64 * 1024;
        // Room for the live event each reconnect adds, so that the oldest event stays retained.
        use(StreamRegistry.builder().replay(backlog + 20, Duration.ZERO)
                .streamOptions(o -> o.withMaxQueuedBytes(bound).withOverflow(OverflowPolicy.DISCONNECT)));
        List<String> ids = publishNumbered("backlog", 0, backlog, eventSize);
        long bytes = 0;
        long nanos = 0;
        for (int i = 0; i < 20; i++) {
            // Every other one from the oldest event: 4 MiB through the 64 KiB queue.
            int after = i % 2 == 0 ? 0 : (i * 97) % backlog;
            long expected = ids.size() - after - 1;
            long start = System.nanoTime();
            Conn c = client.getFrom(after + 1, "/sub?topic=backlog", "Last-Event-ID: " + ids.get(after));
            assertThat(c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
            c.awaitEventCount(expected, WAIT);
            nanos += System.nanoTime() - start;
            bytes += c.bodyBytes();
            assertThat(c.outOfOrder()).as("reconnect %d after event %d", i, after).isNull();
            // Then live, with no gap and no duplicate: the next event published is the next one received.
            SseStream stream = takeOpened(1).get(0);
            ids.add(registry.publish("backlog", padded(ids.size(), 16)));
            c.awaitEventCount(expected + 1, WAIT);
            assertThat(c.outOfOrder()).isNull();
            assertThat(stream.isOpen()).as("reconnect %d: %s", i, stream.closeStatus()).isTrue();
            stream.close();
            c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(c.eventCount()).as("reconnect %d: nothing after the live event", i).isEqualTo(expected + 1);
        }
        assertThat(registry.stats().closes()).containsEntry(CloseReason.SLOW_CONSUMER, 0L);
        System.out.printf("[figures] %s: 20 reconnects caught up %d MiB through a %d KiB bound at %.0f MB/s%n",
                server.name(), bytes >> 20, bound >> 10, bytes / (nanos / 1e9) / 1e6);
    }

    @Test
    void aReaderAtATenthOfThePublishRateThenAtFullSpeedEndsWithEveryEventInOrder() throws Exception {
        int total = 4000;
        int eventSize = 4096;
        long slowRate = 400_000;
        String path = "/sub?topic=pace";
        use(StreamRegistry.builder().replay(total, Duration.ZERO)
                .streamOptions(o -> o.withMaxQueuedBytes(64 * 1024).withOverflow(OverflowPolicy.DISCONNECT)));
        ScheduledExecutorService publisher = Executors.newSingleThreadScheduledExecutor();
        AtomicInteger next = new AtomicInteger();
        long received = 0;
        int reconnects = 0;
        Conn conn = client.getFrom(0, path);
        assertThat(conn.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        try {
            // About 4 MB/s published; the reader takes a tenth of that for two seconds, then all it can.
            conn.throttle(slowRate);
            publisher.scheduleAtFixedRate(() -> {
                int i = next.getAndIncrement();
                if (i < total) {
                    registry.publish("pace", padded(i, eventSize));
                }
            }, 0, 1, TimeUnit.MILLISECONDS);
            long fullSpeedAt = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            long deadline = System.nanoTime() + WAIT.toNanos();
            boolean throttled = true;
            while (received + conn.eventCount() < total) {
                assertThat(System.nanoTime()).as("all events within %s; got %d", WAIT, received + conn.eventCount())
                        .isLessThan(deadline);
                if (throttled && System.nanoTime() >= fullSpeedAt) {
                    conn.throttle(0);
                    throttled = false;
                }
                try {
                    conn.ended.get(50, TimeUnit.MILLISECONDS);
                } catch (TimeoutException stillOpen) {
                    continue;
                }
                // Cut: come back at once from the last id seen, as a browser's EventSource does.
                assertThat(conn.outOfOrder()).isNull();
                received += conn.eventCount();
                String last = conn.lastEventId();
                conn = last == null ? client.getFrom(received, path)
                        : client.getFrom(received, path, "Last-Event-ID: " + last);
                assertThat(conn.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
                if (throttled) {
                    conn.throttle(slowRate);
                }
                assertThat(++reconnects).isLessThan(50);
            }
        } finally {
            publisher.shutdownNow();
        }
        // A reset (data "pace") or a repeat would be out of order here.
        assertThat(conn.outOfOrder()).isNull();
        assertThat(received + conn.eventCount()).isEqualTo(total);
        conn.close();
        System.out.printf("[figures] %s: %d events of %d B at ~1/ms to a reader at %d KB/s for 2 s, then at full "
                + "speed: all received in order, %d reconnects, %d cut as slow%n", server.name(), total, eventSize,
                slowRate / 1000, reconnects, registry.stats().closes().get(CloseReason.SLOW_CONSUMER));
    }

    @Test
    void aReaderTheRingOvertakesGetsAResetAndNeverASilentGap() throws Exception {
        int ring = 50;
        int eventSize = 16 * 1024;
        use(StreamRegistry.builder().replay(ring, Duration.ZERO)
                .streamOptions(o -> o.withMaxQueuedBytes(64 * 1024).withOverflow(OverflowPolicy.DISCONNECT)));
        Conn conn = client.request("GET", "/sub?topic=fast", 4096, true);
        assertThat(conn.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        SseStream stream = takeOpened(1).get(0);
        conn.pause();
        // 16 MiB while it does not read: far more than the socket buffers, the queue and the ring hold.
        int published = 1000;
        publishNumbered("fast", 0, published, eventSize);
        Awaitility.await().atMost(WAIT).until(() -> registry.stats().eventsPublished() == published);
        conn.resume();
        // A reset covers the topic's events up to when it was sent, so a marker published while the stream is
        // still behind may be covered by a later reset: publish one at each poll until one arrives.
        Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
            registry.publish("fast", "final");
            return conn.events().stream().anyMatch(e -> e.data().equals("final"));
        });
        List<Event> events = conn.events();
        assertThat(stream.isOpen()).as("%s", stream.closeStatus()).isTrue();
        long resets = 0;
        long expected = 0;
        long numbered = 0;
        long last = -1;
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            if (e.type().equals(StreamRegistry.RESET_EVENT)) {
                assertThat(e.data()).isEqualTo("fast");
                resets++;
                expected = -1; // After a reset, any later event may follow.
                continue;
            }
            if (e.data().equals("final")) {
                continue;
            }
            long n = Long.parseLong(e.data().substring(0, e.data().indexOf(' ')));
            assertThat(n).as("event %d: %s after %d, with no reset between", i, n, expected - 1)
                    .isEqualTo(expected < 0 ? n : expected);
            assertThat(n).as("event %d: never an older one", i).isGreaterThan(last);
            last = n;
            expected = n + 1;
            numbered++;
        }
        assertThat(resets).as("the ring was overtaken").isPositive();
        System.out.printf("[figures] %s: a paused reader overtaken by a %d-event ring got %d events of %d, %d reset%n",
                server.name(), ring, numbered, published, resets);
    }

    @Test
    void closingATopicAfterABurstLargerThanTheQueueDeliversTheWholeBurstFirst() throws Exception {
        int burst = 2000;
        use(StreamRegistry.builder().replay(burst, Duration.ZERO)
                .streamOptions(o -> o.withMaxQueuedBytes(64 * 1024).withOverflow(OverflowPolicy.DISCONNECT)));
        List<Conn> conns = client.openAll("/sub?topic=job", 10, 10, WAIT);
        takeOpened(10);
        publishNumbered("job", 0, burst, 4096);
        assertThat(registry.closeTopic("job", CloseReason.COMPLETED, "job done")).isEqualTo(10);
        for (Conn c : conns) {
            assertThat(c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
            assertThat(c.eventCount()).isEqualTo(burst);
            assertThat(c.outOfOrder()).isNull();
        }
        assertThat(registry.stats().closes()).containsEntry(CloseReason.COMPLETED, 10L)
                .containsEntry(CloseReason.SLOW_CONSUMER, 0L);
    }

    @Test
    void aClientThatReconnectsWithLastEventIdEndsWithExactlyThePublishedSequence() throws Exception {
        int total = 1500;
        use(StreamRegistry.builder().replay(total, Duration.ZERO));
        ScheduledExecutorService publisher = Executors.newSingleThreadScheduledExecutor();
        AtomicInteger next = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        List<Event> received = new ArrayList<>();
        int reconnects = 0;
        try {
            Conn conn = client.get("/sub?topic=r");
            assertThat(conn.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
            // One event every millisecond, whatever the client does: some are published while it reconnects.
            publisher.scheduleAtFixedRate(() -> {
                int i = next.getAndIncrement();
                if (i < total) {
                    registry.publish("r", Integer.toString(i));
                } else {
                    done.countDown();
                }
            }, 0, 1, TimeUnit.MILLISECONDS);
            for (; received.size() < total && reconnects < 100; reconnects++) {
                int target = Math.min(total - received.size(), 100 + 37 * (reconnects % 5));
                conn.awaitEventCountOrEnd(target, WAIT);
                List<Event> got = conn.events();
                received.addAll(got);
                if (received.size() >= total) {
                    break;
                }
                // Vanish (alternately a clean close and a reset), then come back with the last id seen.
                if (reconnects % 2 == 0) {
                    conn.close();
                } else {
                    conn.reset();
                }
                String lastId = received.isEmpty() ? null : received.get(received.size() - 1).lastEventId();
                conn = lastId == null ? client.get("/sub?topic=r") : client.get("/sub?topic=r", "Last-Event-ID: " + lastId);
                assertThat(conn.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            assertThat(done.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            conn.close();
        } finally {
            publisher.shutdownNow();
        }
        List<String> data = received.stream().map(Event::data).toList();
        List<String> expected = new ArrayList<>(total);
        for (int i = 0; i < total; i++) {
            expected.add(Integer.toString(i));
        }
        assertThat(data).as("events across %d reconnects", reconnects).containsExactlyElementsOf(expected);
        assertThat(received).noneMatch(e -> e.type().equals(StreamRegistry.RESET_EVENT));
        System.out.printf("[figures] %s: %d events over %d reconnects (half reset, half closed), none missing or "
                + "repeated%n", server.name(), total, reconnects);
    }

    @Test
    void statsCountCatchUpsAndQueuedBytesAndListenersHearHowLongTheFanOutTook() throws Exception {
        List<Duration> lags = new java.util.concurrent.CopyOnWriteArrayList<>();
        // Room for what a stopped reader is sent below: queued, not cut; a small socket buffer, so that it is queued.
        use(StreamRegistry.builder().streamOptions(o -> o.withMaxQueuedBytes(1 << 20).withSocketSendBuffer(4096))
                .listener(new RegistryListener() {
                    @Override
                    public void onFanOut(Duration lag) {
                        lags.add(lag);
                    }
                }));
        Conn first = client.get("/sub?topic=m");
        first.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        for (int i = 0; i < 10; i++) {
            registry.publish("m", Integer.toString(i));
        }
        List<Event> seen = first.awaitEvents(10, WAIT);
        Awaitility.await().atMost(WAIT).until(() -> lags.size() == 10);
        assertThat(lags).allSatisfy(lag -> assertThat(lag.isNegative() || lag.compareTo(WAIT) > 0).as("lag " + lag)
                .isFalse());
        assertThat(registry.stats().eventsCaughtUp()).isZero();

        Conn resumed = client.get("/sub?topic=m", "Last-Event-ID: " + seen.get(2).lastEventId());
        assertThat(resumed.awaitEvents(7, WAIT)).extracting(Event::data).containsExactly("3", "4", "5", "6", "7", "8", "9");
        // Counted just after each is queued: the client may read the last before it is counted.
        Awaitility.await().atMost(WAIT).until(() -> registry.stats().eventsCaughtUp() == 7);
        assertThat(lags).hasSize(10); // A catch-up is not a fan-out.

        // A reader that stopped: what its stream holds shows in the queued bytes, the sum and the most of one stream.
        Conn stopped = client.request("GET", "/sub?topic=q", 4096, false);
        assertThat(stopped.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        stopped.pause();
        takeOpened(3);
        String big = "x".repeat(8000);
        for (int i = 0; i < 30; i++) {
            registry.publish("q", SseEvent.builder().comment(big).build()); // 240 kB, far over what the sockets hold
        }
        Awaitility.await().atMost(WAIT).until(() -> registry.stats().maxQueuedBytes() >= 100_000);
        RegistryStats stats = registry.stats();
        assertThat(stats.queuedBytes()).isGreaterThanOrEqualTo(stats.maxQueuedBytes());
        assertThat(stats.maxQueuedBytes()).isLessThanOrEqualTo(30 * 8_010);
        // The reader leaves (a reset): its stream ends as CLIENT_GONE, and what it held is no longer queued. (Left
        // to the shutdown instead, the stream would be cut after the grace period with a write pending, which
        // Jetty 12.1 reports with a warning.)
        stopped.reset();
        Awaitility.await().atMost(WAIT).until(() -> registry.subscribers("q") == 0);
        assertThat(registry.stats().queuedBytes()).isLessThan(stats.maxQueuedBytes());
    }

    @Test
    void anIdTheRegistryCannotResumeFromGetsAResetEventAndThenLiveEvents() throws Exception {
        use(StreamRegistry.builder().replay(3, Duration.ZERO));
        Conn first = client.get("/sub?topic=t");
        first.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        for (int i = 0; i < 10; i++) {
            registry.publish("t", Integer.toString(i));
        }
        List<Event> seen = first.awaitEvents(10, WAIT);
        takeOpened(1).get(0).close();
        assertThat(first.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");

        // Within the ring: the events after the id, nothing else.
        Conn resumed = client.get("/sub?topic=t", "Last-Event-ID: " + seen.get(7).lastEventId());
        assertThat(resumed.awaitEvents(2, WAIT)).extracting(Event::data).containsExactly("8", "9");
        // Older than the ring (it holds 7, 8, 9), or from another registry: a reset, then live events.
        Conn tooOld = client.get("/sub?topic=t", "Last-Event-ID: " + seen.get(2).lastEventId());
        Conn foreign = client.get("/sub?topic=t", "Last-Event-ID: abcdef-3");
        for (Conn c : List.of(tooOld, foreign)) {
            List<Event> reset = c.awaitEvents(1, WAIT);
            assertThat(reset.get(0).type()).isEqualTo(StreamRegistry.RESET_EVENT);
            assertThat(reset.get(0).data()).isEqualTo("t");
            assertThat(reset.get(0).lastEventId()).isEqualTo(seen.get(9).lastEventId());
        }
        assertThat(registry.subscribers("t")).isEqualTo(3);
        registry.publish("t", "10");
        for (Conn c : List.of(resumed, tooOld, foreign)) {
            assertThat(c.awaitEvents(c == resumed ? 3 : 2, WAIT).get(c == resumed ? 2 : 1).data()).isEqualTo("10");
        }
    }

    @Test
    void overALimitTheRequestGetsA503Or429WithRetryAfterAndTheCountsReturnToZero() throws Exception {
        List<String> audit = new CopyOnWriteArrayList<>();
        use(StreamRegistry.builder().maxStreams(3).maxStreamsPerTopic(2).maxStreamsPerClient(2)
                .clientKey(req -> req.getHeader("X-User")).retryAfter(Duration.ofSeconds(7))
                .authorizer((req, topic) -> !topic.startsWith("secret/") || "admin".equals(req.getHeader("X-User")))
                .listener(new RegistryListener() {
                    @Override
                    public void onOpen(Subscriber s) {
                        audit.add("open " + s.clientKey());
                    }

                    @Override
                    public void onClose(Subscriber s, CloseStatus status) {
                        audit.add("close " + s.clientKey() + " " + status.reason());
                    }

                    @Override
                    public void onRefused(Refusal refusal, String message) {
                        audit.add("refused " + refusal);
                    }
                }));
        Conn a1 = client.get("/sub?topic=a", "X-User: u1");
        Conn a2 = client.get("/sub?topic=a", "X-User: u1");
        assertThat(a1.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        assertThat(a2.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        assertRefused(client.get("/sub?topic=a", "X-User: u2"), 503, "7", "topic 'a' already has its maximum of 2");
        assertRefused(client.get("/sub?topic=b", "X-User: u1"), 429, "7", "too many streams from this client");
        Conn b = client.get("/sub?topic=b", "X-User: u2");
        assertThat(b.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        assertRefused(client.get("/sub?topic=c", "X-User: u3"), 503, "7", "too many streams: the maximum of 3");
        assertRefused(client.get("/sub?topic=secret/x", "X-User: u3"), 403, null, "not allowed");
        assertRefused(client.get("/sub?topic=bad%20name", "X-User: u3"), 400, null, "U+0020 at index 3");

        RegistryStats stats = registry.stats();
        assertThat(stats.openStreams()).isEqualTo(3);
        assertThat(stats.subscribersByTopic()).containsEntry("a", 2).containsEntry("b", 1);
        assertThat(stats.refusals()).containsEntry(Refusal.TOPIC_LIMIT, 1L).containsEntry(Refusal.CLIENT_LIMIT, 1L)
                .containsEntry(Refusal.STREAM_LIMIT, 1L).containsEntry(Refusal.FORBIDDEN, 1L)
                .containsEntry(Refusal.BAD_TOPIC, 1L);

        for (SseStream s : takeOpened(3)) {
            s.close();
        }
        for (Conn c : List.of(a1, a2, b)) {
            assertThat(c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
        }
        Awaitility.await().atMost(WAIT).until(() -> registry.openStreams() == 0);
        assertThat(registry.stats().subscribersByTopic()).isEmpty();
        assertThat(registry.stats().closes()).containsEntry(CloseReason.COMPLETED, 3L);
        assertThat(audit).contains("open u1", "close u1 COMPLETED", "refused TOPIC_LIMIT");

        // Every place was given back: the same user can open its two streams again, on the once-full topic.
        Conn again1 = client.get("/sub?topic=a", "X-User: u1");
        Conn again2 = client.get("/sub?topic=a", "X-User: u1");
        assertThat(again1.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        assertThat(again2.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        for (SseStream s : takeOpened(2)) {
            s.close();
        }
    }

    @Test
    void aLiveSubscribeIsAuthorizedAndLimitedAndItsRefusalIsCountedAndToldToListeners() throws Exception {
        List<String> refused = new CopyOnWriteArrayList<>();
        use(StreamRegistry.builder().maxStreamsPerTopic(1)
                .authorizer((req, topic) -> !topic.startsWith("secret/") || "admin".equals(req.getHeader("X-User")))
                .listener(new RegistryListener() {
                    @Override
                    public void onRefused(Refusal refusal, String message) {
                        refused.add(refusal + ": " + message);
                    }
                }));
        Conn a = client.get("/sub?topic=a", "X-User: u1");
        Conn b = client.get("/sub?topic=b", "X-User: admin");
        a.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        b.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        SseStream streamA = null;
        SseStream streamB = null;
        for (SseStream s : takeOpened(2)) {
            if (registry.subscriber(s).orElseThrow().topics().contains("a")) {
                streamA = s;
            } else {
                streamB = s;
            }
        }
        SseStream first = streamA;
        SseStream second = streamB;
        assertThatThrownBy(() -> registry.subscribe(second, "a")).isInstanceOf(HandoffRejectedException.class)
                .hasMessageContaining("topic 'a' already has its maximum of 1")
                .satisfies(e -> assertThat(((HandoffRejectedException) e).status()).isEqualTo(503));
        assertThatThrownBy(() -> registry.subscribe(first, "secret/plans")).isInstanceOf(HandoffRejectedException.class)
                .hasMessageContaining("not allowed")
                .satisfies(e -> assertThat(((HandoffRejectedException) e).status()).isEqualTo(403));
        // The authorizer reads the stream's own request: the admin's stream may.
        assertThat(registry.subscribe(second, "secret/plans")).isTrue();
        assertThat(refused).hasSize(2);
        assertThat(refused.get(0)).startsWith("TOPIC_LIMIT: topic 'a'");
        assertThat(refused.get(1)).startsWith("FORBIDDEN: ").contains("secret/plans");
        assertThat(registry.stats().refusals()).containsEntry(Refusal.TOPIC_LIMIT, 1L)
                .containsEntry(Refusal.FORBIDDEN, 1L);
        assertThat(registry.subscriber(first).orElseThrow().topics()).containsExactly("a");
    }

    /** Asserts a refusal: its status, its {@code Retry-After} (null: none) and words of its message. */
    private static void assertRefused(Conn c, int status, String retryAfter, String message) throws Exception {
        StreamClient.Head head = c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(head.status()).isEqualTo(status);
        assertThat(head.header("Retry-After")).isEqualTo(retryAfter);
        c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(c.body()).contains(message);
    }

    @Test
    void shutdownClosesAThousandStreamsWithAFinalEventWithinTheGracePeriodAndLeavesNoThread() throws Exception {
        List<String> threadsBefore = handoffThreads();
        StreamScheduler own = StreamScheduler.create(2, Duration.ofMillis(25));
        registry = StreamRegistry.builder().scheduler(own).build();
        List<Conn> conns = new ArrayList<>();
        for (int i = 0; i < 1000; i += 100) {
            List<Conn> batch = new ArrayList<>();
            for (int j = 0; j < 100; j++) {
                batch.add(client.get("/sub?topic=s" + (j % 10)));
            }
            for (Conn c : batch) {
                assertThat(c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            conns.addAll(batch);
        }
        List<SseStream> streams = takeOpened(1000);
        registry.publish("s3", "before");

        SseEvent bye = SseEvent.builder().event("shutdown").data("back soon").retry(Duration.ofSeconds(3)).build();
        Duration grace = Duration.ofSeconds(10);
        long start = System.nanoTime();
        boolean drained = registry.shutdown(grace, bye);
        long tookMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(drained).isTrue();
        assertThat(tookMillis).isLessThan(grace.toMillis());
        for (SseStream s : streams) {
            assertThat(s.closeStatus()).map(CloseStatus::reason).contains(CloseReason.SHUTDOWN);
        }
        for (Conn c : conns) {
            assertThat(c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
            List<Event> events = c.events();
            assertThat(events.get(events.size() - 1)).isEqualTo(new Event("shutdown", "back soon",
                    events.size() > 1 ? events.get(0).lastEventId() : ""));
        }
        assertThat(registry.openStreams()).isZero();
        assertThatThrownBy(() -> registry.publish("s1", "late")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("shut down");
        assertRefused(client.get("/sub?topic=s1"), 503, "5", "shutting down");
        own.close();
        Awaitility.await().atMost(WAIT).until(() -> handoffThreads().equals(threadsBefore));
        System.out.printf("[figures] %s: shutdown of 1000 streams with a final event took %d ms (grace %d ms)%n",
                server.name(), tookMillis, grace.toMillis());
        registry = null;
    }

    @Test
    void withARetryJitterEachStreamIsToldToComeBackAtItsOwnTime() throws Exception {
        registry = StreamRegistry.builder().shutdownRetryJitter(Duration.ofSeconds(2)).build();
        List<Conn> conns = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            conns.add(client.get("/sub?topic=jitter"));
        }
        for (Conn c : conns) {
            assertThat(c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        }
        takeOpened(100);
        registry.shutdown(Duration.ofSeconds(10), SseEvent.builder().event("shutdown").data("back soon")
                .retry(Duration.ofSeconds(3)).build());
        java.util.Set<Long> retries = new java.util.TreeSet<>();
        for (Conn c : conns) {
            assertThat(c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
            assertThat(c.events().get(c.events().size() - 1).type()).isEqualTo("shutdown");
            assertThat(c.retry()).as("a stream's retry").isBetween(3_000L, 5_000L);
            retries.add(c.retry());
        }
        // 100 draws from 2,001 values: fewer than 50 different ones would mean they are not spread.
        assertThat(retries).as("the streams' retries").hasSizeGreaterThan(50);
        registry = null;
    }

    /** The names of Handoff's live threads (its schedulers' pools). */
    private static List<String> handoffThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(name -> name.startsWith("handoff-")).sorted().toList();
    }

    @Test
    void closingATopicEndsItsStreamsAfterTheEventsAlreadyPublished() throws Exception {
        use(StreamRegistry.builder());
        List<Conn> conns = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            conns.add(client.get("/sub?topic=task"));
        }
        for (Conn c : conns) {
            c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        for (int i = 0; i < 3; i++) {
            registry.publish("task", Integer.toString(i));
        }
        assertThat(registry.closeTopic("task", CloseReason.COMPLETED, "task done")).isEqualTo(20);
        for (Conn c : conns) {
            assertThat(c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
            assertThat(c.events()).extracting(Event::data).containsExactly("0", "1", "2");
        }
        Awaitility.await().atMost(WAIT).until(() -> registry.subscribers("task") == 0);
    }

    @Test
    void aBroadcastToManySubscribersReachesEachInOrder() throws Exception {
        int subscribers = 200;
        int events = 50;
        use(StreamRegistry.builder());
        List<Conn> conns = client.openAll("/sub?topic=once", subscribers, subscribers, WAIT);
        for (int i = 0; i < events; i++) {
            registry.publish("once", SseEvent.of("tick", Integer.toString(i)));
        }
        for (Conn c : conns) {
            c.awaitEventCount(events, WAIT);
            assertThat(c.outOfOrder()).isNull();
        }
        Awaitility.await().atMost(WAIT).until(() -> registry.stats().eventsDelivered() == (long) events * subscribers);
    }

    @Test
    void aStreamCanFollowSeveralTopicsAndChangeThemWhileOpen() throws Exception {
        List<String> calls = new CopyOnWriteArrayList<>();
        use(StreamRegistry.builder().listener(new RegistryListener() {
            @Override
            public void onOpen(Subscriber s) {
                calls.add("open");
            }

            @Override
            public void onSubscribe(Subscriber s, String topic) {
                calls.add("+" + topic);
            }

            @Override
            public void onUnsubscribe(Subscriber s, String topic) {
                calls.add("-" + topic);
            }

            @Override
            public void onClose(Subscriber s, CloseStatus status) {
                calls.add("close " + status.reason());
            }
        }));
        Conn c = client.get("/sub?topic=x&topic=y");
        c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        SseStream stream = takeOpened(1).get(0);
        assertThat(registry.subscriber(stream).orElseThrow().topics()).containsExactlyInAnyOrder("x", "y");
        registry.publish("x", "x1");
        registry.publish("y", "y1");
        registry.publish("z", "z1");
        assertThat(registry.subscribe(stream, "z")).isTrue();
        assertThat(registry.unsubscribe(stream, "x")).isTrue();
        registry.publish("x", "x2");
        registry.publish("z", "z2");
        registry.publish("y", "y2");
        assertThat(c.awaitEvents(4, WAIT)).extracting(Event::data).containsExactly("x1", "y1", "z2", "y2");
        assertThatThrownBy(() -> registry.publish("no spaces", "x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("U+0020");
        stream.close();
        Awaitility.await().atMost(WAIT).until(() -> calls.size() == 8);
        assertThat(calls).containsExactly("open", "+x", "+y", "+z", "-x", "-y", "-z", "close COMPLETED");
        assertThat(registry.subscribers("y")).isZero();
        assertThatThrownBy(() -> registry.subscribe(stream, "x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has ended");
    }
}
