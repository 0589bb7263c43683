package dev.handoff.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.StreamOptions;
import dev.handoff.core.internal.Connection;
import dev.handoff.core.internal.TestTransport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The fan-out without a container: subscriptions on one stripe, a manual pool, and connections whose output is
 * recorded, so that what each stream is handed (which array, how many writes) is visible.
 */
class FanOutTest {

    private final ArrayDeque<Runnable> pool = new ArrayDeque<>();
    private final FanOut fanOut = new FanOut(1, pool::add, 10_000);
    private final Object lock = new Object();
    private final Topic topic = new Topic("t", 1, 0);
    private final AtomicLong clock = new AtomicLong();
    private long seq;

    private final class Stream {
        final TestTransport transport = new TestTransport();
        final Connection connection = new Connection("GET /sub", StreamOptions.defaults().withHeartbeat(Duration.ZERO)
                .withWriteTimeout(Duration.ZERO), null, null, clock::get);
        final Member member;
        final Topic.Subscription subscription;

        Stream(long joinedAfter) {
            transport.startOn(connection);
            connection.onWritePossible();
            member = RegistryParts.member(connection, fanOut, lock, () -> seq);
            subscription = new Topic.Subscription(member, topic, joinedAfter);
            synchronized (lock) {
                member.subscriptions.put(topic.name, subscription);
                topic.stripes[0].add(subscription);
            }
        }

        String text() {
            return transport.text();
        }
    }

    private byte[] publish(String data) {
        List<FanOut.Stripe> toStart = FanOut.newStartList();
        byte[] frame;
        synchronized (lock) {
            long n = ++seq;
            frame = ("id: e-" + n + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
            topic.lastSeq = n;
            fanOut.broadcast(topic, n, frame, false, toStart);
        }
        fanOut.start(toStart);
        return frame;
    }

    private void runPool() {
        for (int i = 0; i < 1_000 && !pool.isEmpty(); i++) {
            pool.poll().run();
        }
        assertThat(pool).as("the pool ran dry").isEmpty();
    }

    @Test
    void aBroadcastHandsEverySubscriberTheOneFrameItWasEncodedInto() {
        List<Stream> streams = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            streams.add(new Stream(0));
        }
        byte[] frame = publish("hello");
        runPool();
        for (Stream s : streams) {
            assertThat(s.transport.arrays).as("one write, of the shared array itself (no copy per stream)")
                    .hasSize(1).allSatisfy(a -> assertThat(a).isSameAs(frame));
        }
    }

    @Test
    void eventsPublishedBackToBackReachEachStreamInOrderInOneWrite() {
        Stream a = new Stream(0);
        Stream b = new Stream(0);
        publish("1");
        publish("2");
        publish("3");
        runPool();
        for (Stream s : List.of(a, b)) {
            assertThat(s.transport.writeCalls.get()).isEqualTo(1);
            assertThat(s.text()).isEqualTo("id: e-1\ndata: 1\n\nid: e-2\ndata: 2\n\nid: e-3\ndata: 3\n\n");
        }
    }

    @Test
    void aSubscriptionGetsOnlyTheEventsAfterItJoinedAndUpToWhenItLeft() {
        Stream early = new Stream(0);
        publish("1");
        runPool();
        Stream late;
        synchronized (lock) {
            late = new Stream(seq); // Joined after event 1: it came by replay, or not at all.
        }
        publish("2");
        runPool();
        List<FanOut.Stripe> toStart = FanOut.newStartList();
        synchronized (lock) {
            fanOut.unsubscribe(early.subscription, seq, 0, toStart);
        }
        fanOut.start(toStart);
        publish("3");
        runPool();
        assertThat(early.text()).isEqualTo("id: e-1\ndata: 1\n\nid: e-2\ndata: 2\n\n");
        assertThat(late.text()).isEqualTo("id: e-2\ndata: 2\n\nid: e-3\ndata: 3\n\n");
        assertThat(topic.stripes[0]).containsExactly(late.subscription);
    }

    @Test
    void aLongRunGoesOutInSharedWritesOfHalfTheQueueBound() {
        Stream a = new Stream(0);
        Stream b = new Stream(0);
        int bound = a.connection.queueBound();
        String data = "x".repeat(bound / 16 - 32); // Frames just under a sixteenth of the bound: eight per write.
        for (int i = 0; i < 16; i++) {
            publish(data);
        }
        runPool();
        for (Stream s : List.of(a, b)) {
            assertThat(s.transport.arrays).as("sixteen events in two joined writes").hasSize(2)
                    .allSatisfy(array -> assertThat(array.length).isLessThanOrEqualTo(bound / 2));
            assertThat(s.text()).contains("id: e-1\n").contains("id: e-16\n");
        }
        assertThat(a.transport.arrays.get(0)).as("the streams share the joined arrays").isSameAs(
                b.transport.arrays.get(0));
    }
}
