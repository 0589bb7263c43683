package dev.handoff.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.SseEvent;
import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.StreamClient.Conn;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A resume through the registry's cluster, on a real container, with a cluster whose reads and deliveries the test
 * releases one at a time: the switch from the cluster's log to live delivery at every order in which a read and a
 * delivery can meet, with no gap and no duplicate. (On Redis, end to end: handoff-redis's ClusterResumeTest.)
 */
class ClusterCatchUpTest {

    private static final Duration WAIT = Duration.ofSeconds(15);

    private FakeCluster cluster;
    private StreamRegistry registry;
    private TestServer server;
    private StreamClient client;

    @BeforeEach
    void start() throws Exception {
        cluster = new FakeCluster();
        registry = StreamRegistry.builder().cluster(cluster).shutdown(Duration.ofSeconds(1), null).build();
        server = TestServer.start(new TestApp().route("/sub", (req, resp) -> registry.subscribe(req,
                req.getParameterValues("topic"))));
        client = new StreamClient(server.port());
    }

    @AfterEach
    void stop() throws Exception {
        registry.close();
        server.close();
        client.close();
    }

    @Test
    void anEventDeliveredHereWhileThePageWasReadComesOnceFromThePageAndTheRestLive() throws Exception {
        for (int i = 1; i <= 8; i++) {
            cluster.publish("t", SseEvent.of("e" + i));
        }
        cluster.deliverUpTo(6);
        Conn conn = client.get("/sub?topic=t", "Last-Event-ID: f_2");
        FakeCluster.Read read = cluster.nextRead();
        cluster.deliverUpTo(7); // The page holds up to e8; this instance has delivered up to e7 when it arrives.
        read.release();
        cluster.deliverUpTo(8);
        assertThat(data(conn.awaitEvents(6, WAIT))).containsExactly("e3", "e4", "e5", "e6", "e7", "e8");
        assertThat(conn.events().get(5).lastEventId()).isEqualTo("f_8");
        cluster.publish("t", SseEvent.of("e9"));
        cluster.deliverUpTo(9);
        assertThat(data(conn.awaitEvents(7, WAIT))).endsWith("e8", "e9").doesNotHaveDuplicates();
        assertThat(cluster.reads).isEqualTo(1);
    }

    @Test
    void aPageReadBeforeTheLatestDeliveryIsFollowedByAnotherRead() throws Exception {
        for (int i = 1; i <= 5; i++) {
            cluster.publish("t", SseEvent.of("e" + i));
        }
        cluster.deliverUpTo(5);
        Conn conn = client.get("/sub?topic=t", "Last-Event-ID: f_2");
        FakeCluster.Read read = cluster.nextRead(); // Covers up to e5.
        cluster.publish("t", SseEvent.of("e6"));
        cluster.deliverUpTo(6); // Delivered here before the page arrives, and not in it.
        read.release();
        cluster.nextRead().release();
        assertThat(data(conn.awaitEvents(4, WAIT))).containsExactly("e3", "e4", "e5", "e6");
        cluster.publish("t", SseEvent.of("e7"));
        cluster.deliverUpTo(7);
        assertThat(data(conn.awaitEvents(5, WAIT))).containsExactly("e3", "e4", "e5", "e6", "e7");
        assertThat(cluster.reads).isEqualTo(2);
    }

    @Test
    void aTopicTheClusterLostGetsAResetWhoseIdResumesTheOtherTopic() throws Exception {
        cluster.publish("kept", SseEvent.of("k1"));
        cluster.publish("gone", SseEvent.of("g1"));
        cluster.publish("kept", SseEvent.of("k2"));
        cluster.deliverUpTo(3);
        cluster.lost.add("gone");
        Conn conn = client.get("/sub?topic=kept&topic=gone", "Last-Event-ID: f_1");
        cluster.nextRead().release();
        List<Event> events = conn.awaitEvents(2, WAIT);
        assertThat(events.get(0).type()).isEqualTo(StreamRegistry.RESET_EVENT);
        assertThat(events.get(0).data()).isEqualTo("gone");
        assertThat(events.get(0).lastEventId()).as("resumes 'kept' after k1").isEqualTo("f_1");
        assertThat(events.get(1).data()).isEqualTo("k2");
    }

    @Test
    void whenTheClusterCannotBeReadEachTopicGetsAResetAtThisInstancesPositionAndLiveEventsFollow() throws Exception {
        cluster.publish("t", SseEvent.of("e1"));
        cluster.publish("t", SseEvent.of("e2"));
        cluster.deliverUpTo(2);
        Conn conn = client.get("/sub?topic=t", "Last-Event-ID: f_1");
        cluster.nextRead().fail(new IllegalStateException("unreachable"));
        Event reset = conn.awaitEvents(1, WAIT).get(0);
        assertThat(reset.type()).isEqualTo(StreamRegistry.RESET_EVENT);
        assertThat(reset.lastEventId()).isEqualTo("f_2");
        cluster.publish("t", SseEvent.of("e3"));
        cluster.deliverUpTo(3);
        assertThat(data(conn.awaitEvents(2, WAIT))).containsExactly("t", "e3");
    }

    private static List<String> data(List<Event> events) {
        return events.stream().map(Event::data).toList();
    }

    /**
     * A cluster in memory: ids {@code f_<n>}, every event kept; deliveries and read completions happen when the
     * test says.
     */
    static final class FakeCluster implements Cluster {
        final List<Logged> log = new ArrayList<>();
        final Set<String> lost = new HashSet<>();
        private final LinkedBlockingQueue<Read> pending = new LinkedBlockingQueue<>();
        private Deliveries deliveries;
        private int delivered;
        volatile int reads;

        /** A read whose page was made when it was asked for, and arrives when the test releases it. */
        record Read(Cluster.LogPage page, CompletableFuture<Cluster.LogPage> future) {
            void release() {
                future.complete(page);
            }

            void fail(Throwable why) {
                future.completeExceptionally(why);
            }
        }

        @Override
        public String start(Deliveries d, Replay replay) {
            this.deliveries = d;
            return "f_0";
        }

        @Override
        public synchronized CompletionStage<String> publish(String topic, SseEvent event) {
            String id = "f_" + (log.size() + 1);
            log.add(new Logged(topic, id, event));
            return CompletableFuture.completedFuture(id);
        }

        /** Hands this instance every event up to number {@code n}, as a bus reader would. */
        void deliverUpTo(int n) {
            while (delivered < n) {
                Logged e;
                synchronized (this) {
                    e = log.get(delivered++);
                }
                deliveries.deliver(e.topic(), e.id(), e.event(), 0);
            }
        }

        Read nextRead() throws InterruptedException {
            Read r = pending.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(r).as("a read of the cluster within " + WAIT).isNotNull();
            return r;
        }

        @Override
        public synchronized CompletionStage<LogPage> read(Map<String, String> after, int count) {
            reads++;
            List<Logged> events = new ArrayList<>();
            Set<String> lostHere = new HashSet<>();
            after.forEach((topic, position) -> {
                if (lost.contains(topic)) {
                    lostHere.add(topic);
                }
            });
            for (Logged e : log) {
                String position = after.get(e.topic());
                if (position != null && !lostHere.contains(e.topic()) && n(e.id()) > n(position)) {
                    events.add(e);
                }
            }
            Read r = new Read(new LogPage(events, "f_" + log.size(), lostHere), new CompletableFuture<>());
            pending.add(r);
            return r.future;
        }

        @Override
        public Status status() {
            return new Status(true, "f_" + delivered, 0, Map.of());
        }

        @Override
        public boolean isAtOrAfter(String position, String other) {
            return n(position) >= n(other);
        }

        private static long n(String id) {
            return Long.parseLong(id.substring(2));
        }

        @Override
        public void close() {
        }
    }
}
