package dev.handoff.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.OverflowPolicy;
import dev.handoff.core.QueueFullException;
import dev.handoff.core.StreamClosedException;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.StreamScheduler;
import dev.handoff.core.support.Together;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The writer's state machine and the single end, on an in-memory transport; both sides of each race forced. */
class ConnectionTest {

    private static final StreamScheduler NEVER_TICKS = StreamScheduler.create(1, Duration.ofHours(1));
    private static final StreamOptions OPTIONS = StreamOptions.defaults().withScheduler(NEVER_TICKS);

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final TestTransport transport = new TestTransport();
    private final List<CloseStatus> closes = new CopyOnWriteArrayList<>();

    @AfterAll
    static void stopScheduler() {
        NEVER_TICKS.close();
    }

    private Connection connection(StreamOptions options, byte[] heartbeat) {
        Connection c = new Connection("GET /test", options, heartbeat, null, clock::get);
        c.start(transport);
        c.onClose(closes::add);
        return c;
    }

    /** A connection past the container's first onWritePossible, as after a real handoff. */
    private Connection started() {
        Connection c = connection(OPTIONS, null);
        c.onWritePossible();
        return c;
    }

    private static CompletionStage<Void> send(Connection c, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return c.write(b, 0, b.length);
    }

    @Test
    void smallQueuedWritesGoToTheContainerAsOneWriteInOrder() {
        Connection c = connection(OPTIONS.withMaxQueuedBytes(1 << 20), null);
        CompletionStage<Void> a = send(c, "a");
        send(c, "b");
        send(c, "c");
        String big = "x".repeat(Connection.JOIN_BYTES + 1);
        send(c, big);
        CompletionStage<Void> d = send(c, "d");
        c.onWritePossible();
        assertThat(transport.text()).isEqualTo("abc" + big + "d");
        assertThat(transport.writeCalls.get()).as("abc joined; the big one alone; then d").isEqualTo(3);
        assertThat(a.toCompletableFuture()).isCompleted();
        assertThat(d.toCompletableFuture()).isCompleted();
    }

    @Test
    void writesBeforeTheFirstOnWritePossibleWaitForIt() {
        Connection c = connection(OPTIONS, null);
        CompletionStage<Void> done = send(c, "early");
        assertThat(transport.text()).isEmpty();
        assertThat(c.toString()).contains("writer WAITING");
        c.onWritePossible();
        assertThat(transport.text()).isEqualTo("early");
        assertThat(done.toCompletableFuture()).isCompleted();
        assertThat(c.toString()).contains("writer IDLE");
    }

    @Test
    void aWriteOnAnIdleStreamIsWrittenAndFlushedByTheCaller() {
        Connection c = started();
        send(c, "a");
        send(c, "b");
        assertThat(transport.text()).isEqualTo("ab");
        assertThat(transport.flushes.get()).isEqualTo(2);
        assertThat(c.toString()).contains("writer IDLE");
    }

    @Test
    void aFlushIsFollowedByIsReadyAndAnIdleStreamClosesWithoutAContainerCall() {
        Connection c = started();
        int before = transport.isReadyCalls.get();
        send(c, "a");
        assertThat(transport.isReadyCalls.get() - before).as("before the write, before the flush, and after it: "
                + "Tomcat registers for onWritePossible there if the flush left bytes behind").isEqualTo(3);
        c.close(CloseReason.COMPLETED, "done");
        assertThat(transport.isReadyCalls.get() - before).as("closing an idle, flushed stream asks nothing")
                .isEqualTo(3);
        assertThat(transport.completes.get()).isEqualTo(1);
    }

    @Test
    void aFlushTheContainerCouldNotFinishLeavesTheWriterWaitingForOnWritePossible() {
        Connection c = started();
        transport.readyAfterFlush = false;
        send(c, "a");
        assertThat(transport.flushes.get()).isEqualTo(1);
        assertThat(c.toString()).as("not idle while the container still holds bytes").contains("writer WAITING");
        transport.ready.set(true);
        c.onWritePossible();
        assertThat(c.toString()).contains("writer IDLE");
    }

    @Test
    void aWriteCompletesWhenTheContainerIsReadyAgainNotWhenItWasHandedTheBytes() {
        Connection c = started();
        transport.readyAfterWrite = false;
        CompletionStage<Void> first = send(c, "a");
        assertThat(transport.text()).isEqualTo("a");
        assertThat(first.toCompletableFuture()).as("the container still holds the write").isNotDone();
        assertThat(c.toString()).contains("writer WAITING");
        transport.ready.set(true);
        c.onWritePossible();
        assertThat(first.toCompletableFuture()).isCompleted();
        assertThat(c.toString()).contains("writer IDLE");
    }

    @Test
    void aWriteToAContainerThatCopiesItCompletesWhenTheWriteReturns() {
        Connection c = started();
        transport.copiesWrites = true;
        transport.readyAfterWrite = false;
        CompletionStage<Void> first = send(c, "a");
        CompletionStage<Void> second = send(c, "b");
        assertThat(first.toCompletableFuture()).as("the container copied it").isCompleted();
        assertThat(second.toCompletableFuture()).as("queued behind a container that is not ready").isNotDone();
        assertThat(c.toString()).contains("writer WAITING");
    }

    @Test
    void aWriteTheContainerTookButNeverFinishedFailsWithTheStreamsEnd() {
        Connection c = started();
        transport.readyAfterWrite = false;
        CompletionStage<Void> first = send(c, "a");
        c.abort(CloseReason.SLOW_CONSUMER, "test", null);
        assertThat(first.toCompletableFuture()).isCompletedExceptionally();
        assertThatThrownBy(() -> first.toCompletableFuture().join()).hasCauseInstanceOf(StreamClosedException.class)
                .hasMessageContaining("SLOW_CONSUMER");
        assertThat(transport.completes.get()).isEqualTo(1);
    }

    @Test
    void whenTheContainerIsNotReadyWritesQueueUntilOnWritePossible() {
        Connection c = started();
        transport.ready.set(false);
        CompletionStage<Void> first = send(c, "1");
        send(c, "2");
        assertThat(c.toString()).contains("writer WAITING");
        assertThat(first.toCompletableFuture()).isNotDone();
        assertThat(c.queuedBytes()).isEqualTo(2);
        transport.ready.set(true);
        c.onWritePossible();
        assertThat(transport.text()).isEqualTo("12");
        assertThat(first.toCompletableFuture()).isCompleted();
        assertThat(c.queuedBytes()).isZero();
    }

    @Test
    void onWritePossibleArrivingWhileTheWriterStillHoldsFalseIsNotLost() throws Exception {
        Connection c = started();
        transport.ready.set(false);
        // The container sees the socket writable again and calls onWritePossible from its own thread while
        // the writer is still inside isReady(), before it could record WAITING.
        transport.insideIsReady = () -> {
            transport.ready.set(true);
            Thread container = new Thread(c::onWritePossible);
            container.start();
            try {
                container.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        CompletionStage<Void> done = send(c, "raced");
        assertThat(transport.text()).isEqualTo("raced");
        assertThat(done.toCompletableFuture()).isCompleted();
        assertThat(c.toString()).contains("writer IDLE");
        assertThat(transport.overlaps.get()).isZero();
    }

    @Test
    void aStreamCutWhileItsWriterFindsTheContainerNotReadyIsEndedAtOnceNotOnALaterWake() throws Exception {
        Connection c = started();
        transport.ready.set(false);
        // A client that stopped reading: the writer sees isReady() false while another thread cuts the stream
        // (an overflow, a shutdown). No onWritePossible will ever come.
        transport.insideIsReady = () -> {
            Thread cutter = new Thread(() -> c.abort(CloseReason.SLOW_CONSUMER, "cut while not ready", null));
            cutter.start();
            try {
                cutter.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        send(c, "stuck");
        assertThat(c.closeStatus()).hasValueSatisfying(s -> assertThat(s.reason()).isEqualTo(CloseReason.SLOW_CONSUMER));
        assertThat(transport.completes.get()).as("the response ended by the writer on leaving").isEqualTo(1);
        assertThat(c.toString()).contains("writer DONE");
    }

    @Test
    void onWritePossibleWhileIdleIsIgnored() {
        Connection c = started();
        c.onWritePossible();
        send(c, "x");
        assertThat(transport.text()).isEqualTo("x");
        assertThat(c.toString()).contains("writer IDLE");
    }

    @Test
    void sixteenThreadsWritingAtOnceNeverOverlapAndKeepEachThreadsOrder() throws Exception {
        Connection c = connection(OPTIONS.withMaxQueuedBytes(16 * 1000 * 16), null);
        c.onWritePossible();
        int threads = 16;
        int perThread = 1000;
        Together.run(threads, Duration.ofSeconds(30), id -> {
            for (int i = 0; i < perThread; i++) {
                transport.ready.set(i % 7 != 0); // now and then not ready, to mix in handovers
                send(c, String.format("%02d:%04d;", id, i));
                if (i % 7 == 0) {
                    transport.ready.set(true);
                    c.onWritePossible();
                }
            }
        });
        transport.ready.set(true);
        c.onWritePossible();
        int[] next = new int[threads];
        String[] records = transport.text().split(";");
        assertThat(records).hasSize(threads * perThread);
        for (String r : records) {
            int id = Integer.parseInt(r.substring(0, 2));
            assertThat(Integer.parseInt(r.substring(3))).isEqualTo(next[id]++);
        }
        assertThat(transport.overlaps.get()).isZero();
    }

    @Test
    void gracefulCloseSendsWhatWasQueuedThenCompletesOnce() {
        Connection c = started();
        transport.ready.set(false);
        send(c, "last words");
        c.close(CloseReason.COMPLETED, "done");
        assertThat(c.isOpen()).isFalse();
        assertThat(c.closeStatus()).isEmpty();
        assertThatThrownBy(() -> send(c, "more")).isInstanceOf(StreamClosedException.class)
                .hasMessage("stream " + c.id() + " already closed: COMPLETED (done)");
        transport.ready.set(true);
        c.onWritePossible();
        assertThat(transport.text()).isEqualTo("last words");
        assertThat(transport.completes.get()).isEqualTo(1);
        assertThat(closes).containsExactly(new CloseStatus(CloseReason.COMPLETED, "done"));
    }

    @Test
    void closingAnIdleStreamEndsItAtOnce() {
        Connection c = started();
        send(c, "x");
        c.close(CloseReason.SHUTDOWN, "bye");
        assertThat(c.closeStatus()).contains(new CloseStatus(CloseReason.SHUTDOWN, "bye"));
        assertThat(transport.completes.get()).isEqualTo(1);
    }

    @Test
    void abortDiscardsQueuedBytesAndFailsTheirCompletions() {
        Connection c = started();
        transport.ready.set(false);
        CompletionStage<Void> pending = send(c, "never");
        c.abort(CloseReason.ERROR, "app failed", null);
        assertThat(pending.toCompletableFuture()).isCompletedExceptionally();
        assertThatThrownBy(() -> pending.toCompletableFuture().get()).hasCauseInstanceOf(StreamClosedException.class);
        assertThat(transport.text()).isEmpty();
        assertThat(transport.completes.get()).isEqualTo(1);
        assertThat(closes).extracting(CloseStatus::reason).containsExactly(CloseReason.ERROR);
    }

    @Test
    void aFailedWriteEndsTheStreamAsClientGoneAndLaterWritesNameTheReason() {
        Connection c = started();
        transport.failWrites = new IOException("Broken pipe");
        CompletionStage<Void> failed = send(c, "x");
        assertThat(failed.toCompletableFuture()).isCompletedExceptionally();
        assertThat(closes).containsExactly(new CloseStatus(CloseReason.CLIENT_GONE, "Broken pipe"));
        assertThat(transport.completes.get()).isEqualTo(1);
        assertThatThrownBy(() -> send(c, "y")).isInstanceOf(StreamClosedException.class)
                .hasMessage("stream " + c.id() + " already closed: CLIENT_GONE (Broken pipe)");
    }

    @Test
    void anEndDecidedWhileAnotherThreadWritesIsCompletedByThatWriterOnLeaving() throws Exception {
        Connection c = started();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        transport.insideIsReady = () -> {
            inside.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        Thread writer = new Thread(() -> send(c, "x"));
        writer.start();
        assertThat(inside.await(5, TimeUnit.SECONDS)).isTrue();
        c.onContainerError(new IOException("Connection reset by peer"));
        assertThat(closes).extracting(CloseStatus::reason).containsExactly(CloseReason.CLIENT_GONE);
        assertThat(transport.completes.get()).as("not completed while a thread is inside the stream").isZero();
        release.countDown();
        writer.join(5_000);
        assertThat(transport.completes.get()).isEqualTo(1);
        assertThat(transport.overlaps.get()).isZero();
    }

    @Test
    void overflowWithDisconnectEndsAsSlowConsumer() {
        Connection c = connection(OPTIONS.withMaxQueuedBytes(10), null);
        c.onWritePossible();
        transport.ready.set(false);
        send(c, "12345");
        send(c, "67890");
        CompletionStage<Void> over = send(c, "!");
        assertThat(over.toCompletableFuture()).isCompletedExceptionally();
        assertThat(closes).extracting(CloseStatus::reason).containsExactly(CloseReason.SLOW_CONSUMER);
        assertThat(closes.get(0).detail()).contains("queue over 10 bytes");
    }

    @Test
    void overflowWithFailWriteRefusesTheWriteAndStaysOpen() {
        Connection c = connection(OPTIONS.withMaxQueuedBytes(10).withOverflow(OverflowPolicy.FAIL_WRITE), null);
        c.onWritePossible();
        transport.ready.set(false);
        send(c, "1234567890");
        CompletionStage<Void> refused = send(c, "x");
        assertThatThrownBy(() -> refused.toCompletableFuture().get()).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(QueueFullException.class).hasMessageContaining("FAIL_WRITE");
        assertThat(c.isOpen()).isTrue();
        assertThat(c.queuedBytes()).isEqualTo(10);
    }

    @Test
    void overflowWithDropOldestKeepsTheNewestWholeWrites() {
        Connection c = connection(OPTIONS.withMaxQueuedBytes(6).withOverflow(OverflowPolicy.DROP_OLDEST), null);
        c.onWritePossible();
        transport.ready.set(false);
        CompletionStage<Void> oldest = send(c, "aaa");
        send(c, "bbb");
        send(c, "ccc");
        assertThat(oldest.toCompletableFuture()).isCompletedExceptionally();
        transport.ready.set(true);
        c.onWritePossible();
        assertThat(transport.text()).isEqualTo("bbbccc");
        assertThat(c.isOpen()).isTrue();
    }

    @Test
    void heartbeatIsSentAfterAnIntervalWithoutWritesInTwoPartsOneTickApart() {
        StreamOptions o = OPTIONS.withHeartbeat(Duration.ofSeconds(10));
        Connection c = new Connection("GET /test", o, SseEncoder.HEARTBEAT_OPEN, SseEncoder.HEARTBEAT_CLOSE, clock::get);
        c.start(transport);
        c.onWritePossible();
        long start = clock.get();
        tickAt(c, start + Duration.ofSeconds(9).toNanos());
        assertThat(transport.text()).isEmpty();
        tickAt(c, start + Duration.ofSeconds(10).toNanos());
        assertThat(transport.text()).isEqualTo(":");
        tickAt(c, start + Duration.ofMillis(10_025).toNanos());
        assertThat(transport.text()).isEqualTo(":\n");
        // A recent write skips the heartbeat.
        clock.set(start + Duration.ofSeconds(15).toNanos());
        send(c, "data: a\n\n");
        tickAt(c, start + Duration.ofSeconds(21).toNanos());
        assertThat(transport.text()).isEqualTo(":\ndata: a\n\n");
        // A write that comes between the two parts finishes the comment line first: frames stay whole.
        tickAt(c, start + Duration.ofSeconds(25).toNanos());
        send(c, "data: b\n\n");
        tickAt(c, start + Duration.ofMillis(25_025).toNanos());
        assertThat(transport.text()).isEqualTo(":\ndata: a\n\n:\ndata: b\n\n");
    }

    @Test
    void idleTimeoutCountsOnlyTheApplicationsWrites() {
        StreamOptions o = OPTIONS.withHeartbeat(Duration.ofSeconds(1)).withIdleTimeout(Duration.ofSeconds(5));
        Connection c = connection(o, new byte[] {'\n'});
        c.onWritePossible();
        long start = clock.get();
        for (int s = 1; s < 5; s++) {
            clock.set(start + Duration.ofSeconds(s).toNanos());
            c.tick(clock.get());
        }
        assertThat(c.isOpen()).isTrue();
        c.tick(start + Duration.ofSeconds(5).toNanos());
        assertThat(closes).extracting(CloseStatus::reason).containsExactly(CloseReason.IDLE_TIMEOUT);
    }

    @Test
    void aWriterWaitingLongerThanTheWriteTimeoutEndsAsSlowConsumer() {
        Connection c = connection(OPTIONS.withWriteTimeout(Duration.ofSeconds(30)), null);
        c.onWritePossible();
        transport.ready.set(false);
        send(c, "stuck");
        long since = clock.get();
        c.tick(since + Duration.ofSeconds(29).toNanos());
        assertThat(c.isOpen()).isTrue();
        c.tick(since + Duration.ofSeconds(30).toNanos());
        assertThat(closes).extracting(CloseStatus::reason).containsExactly(CloseReason.SLOW_CONSUMER);
        assertThat(transport.completes.get()).isEqualTo(1);
    }

    @Test
    void closeCallbacksRunExactlyOnceWhenEveryEndRacesAtOnce() throws Exception {
        for (int round = 0; round < 200; round++) {
            TestTransport t = new TestTransport();
            Connection c = new Connection("GET /race", OPTIONS, null, null, clock::get);
            c.start(t);
            c.onWritePossible();
            List<CloseStatus> seen = new CopyOnWriteArrayList<>();
            c.onClose(seen::add);
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> racers = List.of(
                    new Thread(() -> await(go, () -> c.close(CloseReason.COMPLETED, "app"))),
                    new Thread(() -> await(go, () -> c.abort(CloseReason.SHUTDOWN, "stop", null))),
                    new Thread(() -> await(go, () -> c.onContainerError(new IOException("reset")))),
                    new Thread(() -> await(go, c::onContainerComplete)),
                    new Thread(() -> await(go, () -> {
                        try {
                            byte[] b = {'x'};
                            c.write(b, 0, 1);
                        } catch (StreamClosedException expected) {
                            // Lost the race: fine.
                        }
                    })));
            racers.forEach(Thread::start);
            go.countDown();
            for (Thread r : racers) {
                r.join(5_000);
            }
            assertThat(seen).as("round %d", round).hasSize(1);
            assertThat(t.completes.get()).as("round %d", round).isLessThanOrEqualTo(1);
            assertThat(t.overlaps.get()).isZero();
            CompletableFuture<CloseStatus> whenClosed = c.whenClosed().toCompletableFuture();
            assertThat(whenClosed.get(1, TimeUnit.SECONDS)).isEqualTo(seen.get(0));
        }
    }

    @Test
    void aCallbackAddedAfterTheEndRunsAtOnce() {
        Connection c = started();
        c.abort(CloseReason.CLIENT_GONE, "gone", null);
        List<CloseStatus> late = new ArrayList<>();
        c.onClose(late::add);
        assertThat(late).containsExactly(new CloseStatus(CloseReason.CLIENT_GONE, "gone"));
    }

    /** Ticks as the scheduler does: the clock has moved on to {@code now}. */
    private void tickAt(Connection c, long now) {
        clock.set(now);
        c.tick(now);
    }

    private static void await(CountDownLatch go, Runnable r) {
        try {
            go.await();
        } catch (InterruptedException e) {
            return;
        }
        r.run();
    }
}
