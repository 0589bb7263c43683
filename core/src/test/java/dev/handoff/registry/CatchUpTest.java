package dev.handoff.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.internal.Connection;
import dev.handoff.core.internal.TestTransport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A stream's catch-up cursor, step by step, without a container: the registry's parts wired by hand, a
 * fan-out on a manual executor, and a connection whose client takes bytes only when the test says so. Each
 * page, each wake-up from the connection and the switch to live delivery is a step the test drives.
 */
class CatchUpTest {

    private static final int BOUND = 1000;
    private static final int RING = 100;

    private final AtomicLong clock = new AtomicLong();
    private final ArrayDeque<Runnable> pool = new ArrayDeque<>();
    private final FanOut fanOut = new FanOut(1, pool::add, 10_000);
    private final Object lock = new Object();
    private long seq;
    private final TestTransport transport = new TestTransport();
    private final Connection connection = new Connection("GET /sub", StreamOptions.defaults()
            .withMaxQueuedBytes(BOUND).withHeartbeat(Duration.ZERO).withWriteTimeout(Duration.ZERO), null, null,
            clock::get);
    private final Topic topic = new Topic("t", 1, 0);
    private final Member member;
    private long maxQueued;

    CatchUpTest() {
        transport.startOn(connection);
        connection.onWritePossible(); // The container's first call: the writer is idle from here.
        member = RegistryParts.member(connection, fanOut, lock, () -> seq);
    }

    /** Publishes an event of about 100 bytes, as the registry does: numbered, retained, broadcast. */
    private void publish() {
        List<FanOut.Stripe> toStart = FanOut.newStartList();
        synchronized (lock) {
            long n = ++seq;
            byte[] frame = ("id: e-" + n + "\ndata: " + "x".repeat(80) + "\n\n").getBytes(StandardCharsets.UTF_8);
            topic.retain(new Topic.Retained(n, "e-" + n, frame, n), RING, 0);
            topic.lastSeq = n;
            fanOut.broadcast(topic, n, frame, true, toStart);
        }
        fanOut.start(toStart);
    }

    /** Subscribes the stream after {@code after}, catching up from there (a reconnect with that id). */
    private void reconnectAfter(long after) {
        List<FanOut.Stripe> toStart = FanOut.newStartList();
        synchronized (lock) {
            member.catchUp.beginAfter(after);
            Topic.Subscription sub = new Topic.Subscription(member, topic, after);
            member.subscriptions.put(topic.name, sub);
            topic.stripes[0].add(sub);
            fanOut.enqueue(0, member.catchUp, toStart);
        }
        fanOut.start(toStart);
    }

    /** Runs what the fan-out queued on its pool, a bounded number of tasks. */
    private void runPool() {
        for (int i = 0; i < 10_000 && !pool.isEmpty(); i++) {
            pool.poll().run();
            maxQueued = Math.max(maxQueued, connection.queuedBytes());
        }
        assertThat(pool).as("the pool ran dry").isEmpty();
    }

    /** The client takes everything queued (the container's onWritePossible), then stops reading again. */
    private void clientReads() {
        transport.ready.set(true);
        connection.onWritePossible();
        transport.ready.set(false);
    }

    private List<String> idsReceived() {
        List<String> ids = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^id: (\\S+)$").matcher(transport.text());
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids;
    }

    private static List<String> ids(long from, long to) {
        List<String> ids = new ArrayList<>();
        for (long n = from; n <= to; n++) {
            ids.add("e-" + n);
        }
        return ids;
    }

    @Test
    void aBacklogTenTimesTheBoundArrivesWholeAsTheClientReadsAndTheQueueNeverHoldsMoreThanTheBound() {
        for (int i = 0; i < 100; i++) {
            publish(); // ~100 bytes each: 10,000 bytes of backlog against a 1,000-byte bound.
        }
        transport.ready.set(false);
        reconnectAfter(0);
        for (int round = 0; round < 200 && member.catchingUp; round++) {
            runPool();
            assertThat(connection.isOpen()).as("round %d: %s", round, connection).isTrue();
            clientReads();
        }
        runPool();
        clientReads();
        assertThat(member.catchingUp).as("live again").isFalse();
        assertThat(idsReceived()).isEqualTo(ids(1, 100));
        assertThat(maxQueued).as("bytes queued at most").isLessThanOrEqualTo(BOUND);
        // Live now: the next event is a broadcast, once.
        publish();
        runPool();
        clientReads();
        assertThat(idsReceived()).isEqualTo(ids(1, 101));
    }

    @Test
    void eventsPublishedWhileItCatchesUpArriveOnceAndInOrderAndTheSwitchToLiveLeavesNoGap() {
        for (int i = 0; i < 30; i++) {
            publish();
        }
        transport.ready.set(false);
        reconnectAfter(10);
        for (int round = 0; round < 200 && (member.catchingUp || round < 5); round++) {
            publish(); // Every round: a broadcast the stream skips while it catches up, then takes live.
            runPool();
            clientReads();
        }
        runPool();
        clientReads();
        assertThat(member.catchingUp).isFalse();
        assertThat(idsReceived()).isEqualTo(ids(11, seq));
    }

    @Test
    void aRingThatOvertakesTheCursorSendsAResetAndNeverASilentGap() {
        for (int i = 0; i < 50; i++) {
            publish();
        }
        transport.ready.set(false);
        reconnectAfter(0);
        runPool(); // A first page: about half the bound.
        for (int i = 0; i < 2 * RING; i++) {
            publish(); // The ring (100) moves past the cursor while the client does not read.
        }
        for (int round = 0; round < 200 && member.catchingUp; round++) {
            clientReads();
            runPool();
        }
        clientReads();
        String text = transport.text();
        assertThat(text).contains("event: reset\ndata: t\n");
        List<String> ids = idsReceived();
        int reset = text.indexOf("event: reset");
        String before = text.substring(0, reset);
        // Before the reset: the first events, in order; the reset names the position after which the stream
        // goes on; after it, only events published after the reset.
        assertThat(ids.get(0)).isEqualTo("e-1");
        for (int i = 1; i < ids.size(); i++) {
            long previous = Long.parseLong(ids.get(i - 1).substring(2));
            long current = Long.parseLong(ids.get(i).substring(2));
            assertThat(current).as("ids in order").isGreaterThan(previous);
        }
        assertThat(Pattern.compile("(?m)^id: ").matcher(before).results().count()).isPositive();
        assertThat(member.catchingUp).isFalse();
        publish();
        runPool();
        clientReads();
        assertThat(idsReceived().get(idsReceived().size() - 1)).isEqualTo("e-" + seq);
    }

    @Test
    void aTopicClosedWhileItCatchesUpClosesTheStreamAfterTheEventsPublishedBeforeTheClose() {
        for (int i = 0; i < 40; i++) {
            publish();
        }
        transport.ready.set(false);
        reconnectAfter(0);
        runPool();
        long closeAfter = seq;
        member.catchUp.closeAfter(closeAfter, new CloseStatus(CloseReason.COMPLETED, "topic closed"));
        publish(); // After the close: never sent.
        for (int round = 0; round < 200 && connection.isOpen(); round++) {
            clientReads();
            runPool();
        }
        clientReads();
        assertThat(connection.closeStatus()).map(CloseStatus::reason).contains(CloseReason.COMPLETED);
        assertThat(idsReceived()).isEqualTo(ids(1, closeAfter));
    }
}
