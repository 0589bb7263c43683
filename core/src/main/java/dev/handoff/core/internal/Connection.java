package dev.handoff.core.internal;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.QueueFullException;
import dev.handoff.core.StreamClosedException;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.StreamScheduler;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One handed-off response: its outbound queue, its non-blocking writer and its end.
 *
 * <p><b>The problem.</b> Producers on any thread write to the stream; the servlet container allows exactly
 * one thread at a time inside the {@code ServletOutputStream}, and only after {@code isReady()} returned
 * true. When {@code isReady()} returns false the container calls {@code onWritePossible()} later, on one
 * of its threads, possibly before the thread that saw {@code false} has even left {@code isReady()}.
 *
 * <p><b>The approach.</b> Every write is queued under a short lock; then its producer calls the writer's
 * {@link OwnerLoop}. Whoever finds the writer {@code IDLE} becomes its owner and drains the queue on its own
 * thread, without blocking (non-blocking writes return at once); whoever finds it busy just makes the owner
 * go round once more. The owner writes while {@code isReady()} is true, flushes once the queue is empty, and
 * goes {@code IDLE}; when {@code isReady()} is false it leaves the writer {@code WAITING} for the
 * container's {@code onWritePossible()}, which wakes it. What to write is decided under the lock; every call
 * out (the container, completions, callbacks) happens after releasing it.
 *
 * <pre>
 *                      a producer's write (or a close, a heartbeat) finds IDLE:
 *                      the producer's thread becomes the owner
 *        ┌───────────────────────────────────────────────────────────────┐
 *        │                                                               ▼
 *     IDLE ◀──── queue empty and flushed (isReady() true) ─────── RUNNING ◀──┐ a write arrived while the owner
 *                                                                 │  ▲      │ wrote (RERUN), or onWritePossible
 *                                                 isReady() false │  │      │ came while it was asking isReady()
 *                                                                 ▼  │      │ (WOKEN): go round once more
 *   new Connection ──── the container's first onWritePossible ─▶ WAITING ───┘
 *                       is due after setWriteListener             │  onWritePossible(): the container's
 *                                                                 │  thread becomes the owner
 *
 *   any state ──▶ DONE   the stream ended: the response is completed (or cut) once, by the owner if there
 *                        is one (it goes round and finds the end), else by whoever ended it
 * </pre>
 *
 * <p>Every event in every writer state (the diagram's legend; the states are the writer's {@link OwnerLoop}'s,
 * RUNNING standing for RUNNING, RERUN and WOKEN):
 *
 * <pre>
 *  event \ writer            IDLE                   RUNNING (an owner)         WAITING                  DONE
 *  ---------------------------------------------------------------------------------------------------------------
 *  write or offer queued     run: owns it, writes   run: goes round (RERUN)    -: onWritePossible       refused:
 *                                                                              will write it            CLOSED
 *  onWritePossible()         wake: a turn with      wake: goes round even      wake: owns it, writes    -
 *                            nothing to write       past a WAIT (WOKEN)
 *  isReady() false           ise                    WAITING; the write         ise                      ise
 *                                                   time-out counts from now
 *  queue empty, flushed      ise                    IDLE (isReady() true)      ise                      ise
 *  close(reason)             ends now, no           run: ends once drained     ends once drained,       -
 *                            container call                                    after onWritePossible
 *  abort, error, time-out    end: DONE, completes   end: goes round, ends      end: DONE, completes     -
 *                            or cuts here           the response on leaving    or cuts here
 *  write time-out (tick)     -                      -                          SLOW_CONSUMER, as abort  -
 *  a write or flush throws   ise                    DONE: CLIENT_GONE/ERROR    ise                      ise
 *
 *  run, wake, end   the writer loop's calls          -   nothing to do
 *  ise              cannot happen: only the owner writes, so only it sees isReady() and its writes' results
 * </pre>
 *
 * <p>Every container call follows an {@code isReady()} that returned true, and so does going idle after a
 * flush: on Tomcat that last {@code isReady()} is what registers for {@code onWritePossible} when the flush
 * left bytes in its buffer (without it they would wait for the next write), so the writer is idle only once
 * the container holds nothing. Queued writes are joined (see {@link #JOIN_BYTES}) to make fewer cycles; a
 * close of an idle stream ends it without a container call.
 *
 * <p>A stream ends exactly once: the first of {@link #close}, {@link #abort}, a failed write, a container
 * event or a time-out decides the {@link CloseStatus}; the others find it decided and do nothing.
 * A graceful close first lets the owner drain the queue, then ends with the requested reason.
 */
public final class Connection implements Timed {

    private static final Logger log = LoggerFactory.getLogger(Connection.class);
    private static final AtomicLong IDS = new AtomicLong();
    /**
     * The most bytes joined into one container write, here and in a registry's fan-out (which joins the
     * frames of events published back to back into one shared array, so that thousands of streams share one
     * copy instead of each making its own here). One container write, one flush and one socket write then
     * carry many small events; a write this large is still taken whole by both containers' non-blocking
     * output, which holds what the socket does not take and answers {@code isReady()} false until it has.
     */
    public static final int JOIN_BYTES = 64 * 1024;

    // ---- Fixed at construction.
    private final long id = IDS.incrementAndGet();
    /** Written one tick after the heartbeat's first bytes to finish it; null if it is one piece. */
    private final byte[] heartbeatClose;
    /** The stream's clock: its scheduler's; replaced when a request takes an unattached stream ({@link #adopt}). */
    private volatile LongSupplier nanoClock;
    private final long openedNanos;
    private final CompletableFuture<CloseStatus> closed = new CompletableFuture<>();
    /** Set once, before any write can reach the container (see {@link #start}). */
    private volatile Transport transport;

    // ---- Guarded by lock: touched by producers, the writer, container callbacks and the scheduler.
    private final Object lock = new Object();
    // The stream's settings: fixed at construction, or, for a stream made unattached, replaced once by
    // adopt() when a request takes it (before start(), which puts it on the scheduler).
    private String description;
    private StreamOptions options;
    /** Written when a heartbeat is due; null for no heartbeat. */
    private byte[] heartbeatOpen;
    private long heartbeatNanos;
    private long idleTimeoutNanos;
    private long writeTimeoutNanos;
    private final OutboundQueue queue;
    /** The scheduler whose sweep ticks this stream, from start() to the end; null for none. */
    private StreamScheduler timers;
    /** A graceful close was asked for: end with this once the queue is drained. */
    private CloseStatus closing;
    /** How the stream ended; null while open. */
    private CloseStatus status;
    /** When the writer last began waiting for onWritePossible; written by the owner, read by the tick. */
    private volatile long waitingSinceNanos;
    private long lastWriteNanos;
    private long lastApplicationWriteNanos;
    private List<Consumer<CloseStatus>> callbacks = new ArrayList<>(2);
    /** The end leaves the body unfinished: cut the connection rather than complete the response. */
    private volatile boolean cut;
    /** The first part of a heartbeat is queued and its close is not: it must precede any other bytes. */
    private boolean heartbeatPending;
    /** A producer that found no room ({@link #offerWithin}): run once the queue is down to {@link #roomAt} bytes. */
    private Runnable roomWaiter;
    private long roomAt;

    // ---- The writer: one owner at a time. Its fields are touched by the owner only (ownership passes
    //      through the loop's compare-and-set); other threads read the counters only for the end's log line.
    private final OwnerLoop writer = new OwnerLoop("writer of stream " + id, new OwnerLoop.Work() {
        @Override
        public OwnerLoop.Next process() {
            return writeCycles();
        }

        @Override
        public String toString() {
            return Connection.this.toString();
        }
    }, true);
    private boolean needsFlush;
    /**
     * What the container took and may still send from (see {@link Transport#holdsWrittenArrays()}): a
     * {@link Write} or the {@link Joined} writes of one container write; null for none. Their completions wait
     * for the next {@code isReady()} true, or fail with the stream's end.
     */
    private Object taken;
    private long bytesWritten;
    private long writesDone;
    /** Where a registry counts the bytes of its streams; set once by the registry, read by the writer. */
    private volatile LongAdder byteCounter;

    /**
     * @param heartbeatOpen the heartbeat's bytes, or null for none
     * @param heartbeatClose where not null, the heartbeat's last bytes, written one tick after the first ones.
     *        A client that closed its socket makes the first write succeed and the second fail, so it is
     *        found one tick after a heartbeat instead of one heartbeat interval later.
     */
    public Connection(String description, StreamOptions options, byte[] heartbeatOpen, byte[] heartbeatClose,
            LongSupplier nanoClock) {
        this.heartbeatClose = heartbeatClose;
        this.nanoClock = nanoClock;
        this.openedNanos = nanoClock.getAsLong();
        this.queue = new OutboundQueue(options.maxQueuedBytes(), options.overflow());
        synchronized (lock) {
            settingsLocked(description, options, heartbeatOpen, openedNanos);
        }
    }

    private void settingsLocked(String description, StreamOptions options, byte[] heartbeatOpen, long now) {
        this.description = description;
        this.options = options;
        this.heartbeatOpen = heartbeatOpen;
        this.heartbeatNanos = options.heartbeat().toNanos();
        this.idleTimeoutNanos = options.idleTimeout().toNanos();
        this.writeTimeoutNanos = options.writeTimeout().toNanos();
        this.waitingSinceNanos = now;
        this.lastWriteNanos = now;
        this.lastApplicationWriteNanos = now;
        queue.rebound(options.maxQueuedBytes(), options.overflow());
    }

    /**
     * A stream made before its request (unattached) takes the settings of the request that takes it: its
     * description, options (queue bound and overflow policy for later writes, heartbeat, time-outs counted
     * from now, scheduler) and heartbeat bytes. What was queued meanwhile stays queued, ahead of later writes.
     * Called once, before {@link #start}.
     */
    public void adopt(String description, StreamOptions options, byte[] heartbeatOpen) {
        nanoClock = options.scheduler()::nanoTime;
        synchronized (lock) {
            settingsLocked(description, options, heartbeatOpen, nanoClock.getAsLong());
        }
    }

    /**
     * Attaches the transport. Writes queued before this wait for the first {@link #onWritePossible()},
     * which the container sends once the write listener is set. A stream that ended before (an unattached
     * stream closed or aborted before a request took it) ends its response at once.
     */
    void start(Transport transport) {
        boolean ended;
        synchronized (lock) {
            this.transport = transport;
            ended = status != null;
            if (!ended && needsTimersLocked()) {
                // Under the lock: an end decided later unregisters after this; one decided before skips it.
                timers = options.scheduler();
                ApiAccess.api().register(timers, this);
            }
        }
        if (ended) {
            completeTransport();
        }
    }

    private boolean needsTimersLocked() {
        return (heartbeatOpen != null && heartbeatNanos > 0) || idleTimeoutNanos > 0 || writeTimeoutNanos > 0;
    }

    @Override
    public long id() {
        return id;
    }

    // ------------------------------------------------------------------ producers

    /**
     * Queues a slice of an array that nobody modifies afterwards. Returns a stage completed when the
     * container is done with the array: when it is ready for more after the write where it may still send from
     * it (Jetty's non-blocking output does, for a large write), or when the write returned where it copies what
     * the socket did not take (Tomcat). A producer that writes its next piece on completion goes at the
     * client's pace, with at most one write ahead of what the container holds.
     *
     * @throws StreamClosedException if the stream has ended or is closing
     */
    CompletionStage<Void> write(byte[] bytes, int offset, int length) {
        CompletableFuture<Void> completion = new CompletableFuture<>();
        if (enqueue(new Write(bytes, offset, length, completion), true) == null) {
            synchronized (lock) {
                throw closedException();
            }
        }
        return completion;
    }

    /** What {@link #offerShared} or {@link #offerWithin} did with a frame. */
    public enum Delivery {
        /** Queued for the client. */
        QUEUED,
        /** Not queued: the queue was full (the stream stays open under FAIL_WRITE, and ends under DISCONNECT). */
        DROPPED,
        /** Not queued, nothing else done: no room within the producer's limit; its room callback will run. */
        FULL,
        /** Not queued: the stream had ended or was closing. */
        CLOSED
    }

    /**
     * Queues a shared frame only if it fits: the queue is empty, or holds at most {@code limit - frame.length}
     * bytes. Otherwise nothing is queued, no overflow policy applies, and {@code onRoom} is kept to run once
     * (outside the lock, on the writer's thread) when the queue is down to {@code limit / 2} bytes; it
     * replaces an earlier one and never runs if the stream ends first. This is how a producer that knows its
     * backlog (a registry's catch-up) moves data by demand: as fast as the client takes it, never cut for it.
     * Deciding and keeping the callback under one lock hold means no wake-up is lost.
     */
    public Delivery offerWithin(byte[] frame, long limit, Runnable onRoom) {
        synchronized (lock) {
            if (status != null || closing != null) {
                return Delivery.CLOSED;
            }
            if (!queue.isEmpty() && queue.bytes() + frame.length > limit) {
                roomWaiter = onRoom;
                roomAt = limit / 2;
                return Delivery.FULL;
            }
            finishHeartbeatLocked();
            queue.push(new Write(frame, 0, frame.length, null));
            long now = nanoClock.getAsLong();
            lastWriteNanos = now;
            lastApplicationWriteNanos = now;
        }
        writer.run();
        return Delivery.QUEUED;
    }

    /**
     * Queues a whole array shared with other streams (a broadcast frame), without a completion and without
     * throwing: the fan-out of one event to thousands of streams allocates one small object per stream.
     */
    public Delivery offerShared(byte[] frame) {
        OutboundQueue.Admission admission = enqueue(new Write(frame, 0, frame.length, null), true);
        if (admission == null) {
            return Delivery.CLOSED;
        }
        return admission == OutboundQueue.Admission.QUEUED ? Delivery.QUEUED : Delivery.DROPPED;
    }

    /** The most bytes its queue holds (beyond a single larger write into an empty queue). */
    public int queueBound() {
        return queue.bound();
    }

    /** From now on, adds the bytes the container takes to {@code counter} (a registry's total). */
    public void countBytesInto(LongAdder counter) {
        this.byteCounter = counter;
    }

    /**
     * @param fromApplication false for the first part of a heartbeat, which neither counts against the idle
     *        time-out nor needs finishing before itself
     * @return what the queue did with the write, or null if the stream had ended or was closing
     */
    private OutboundQueue.Admission enqueue(Write write, boolean fromApplication) {
        OutboundQueue.Admission admission;
        List<Write> dropped;
        Ending ending = null;
        synchronized (lock) {
            if (status != null || closing != null) {
                return null;
            }
            if (fromApplication) {
                finishHeartbeatLocked();
            }
            admission = queue.offer(write);
            dropped = queue.takeDropped();
            if (admission == OutboundQueue.Admission.QUEUED) {
                long now = nanoClock.getAsLong();
                lastWriteNanos = now;
                if (fromApplication) {
                    lastApplicationWriteNanos = now;
                } else {
                    heartbeatPending = heartbeatClose != null;
                }
            } else if (admission == OutboundQueue.Admission.OVERFLOW) {
                ending = endLocked(new CloseStatus(CloseReason.SLOW_CONSUMER, "queue over " + queue.bound()
                        + " bytes (" + queue.bytes() + " queued, " + write.length() + " more offered)"), null, false,
                        false);
            }
        }
        if (dropped != null) {
            QueueFullException dropException = new QueueFullException("stream " + id + ": a queued write was "
                    + "dropped to make room (queue bound " + queue.bound() + " bytes, policy DROP_OLDEST)");
            dropped.forEach(w -> w.fail(dropException));
        }
        switch (admission) {
            case REFUSED -> {
                if (write.hasCompletion()) {
                    write.fail(new QueueFullException("stream " + id + ": write of " + write.length() + " bytes "
                            + "refused: queue bound " + queue.bound() + " bytes reached (policy FAIL_WRITE)"));
                }
            }
            case OVERFLOW -> {
                // The lock was held from the open check to the decision, so this thread decided the end.
                if (write.hasCompletion()) {
                    write.fail(closedException(ending.status));
                }
                finish(ending);
            }
            case QUEUED -> writer.run();
        }
        return admission;
    }

    // ------------------------------------------------------------------ the writer

    /** Called by the container when a write is possible again: wakes the writer, on this thread if nobody owns it. */
    public void onWritePossible() {
        writer.wake();
    }

    /**
     * The owner's work: write cycles until the queue is empty and flushed ({@code IDLE}), the container is
     * not ready ({@code WAIT}) or the stream ended ({@code DONE}, the response completed or cut here).
     */
    private OwnerLoop.Next writeCycles() {
        Transport out = transport;
        while (true) {
            boolean ready;
            try {
                ready = out.isReady();
            } catch (RuntimeException e) {
                failedByWriter(e);
                return OwnerLoop.Next.DONE;
            }
            if (ready) {
                settleTaken(null);
            } else {
                // onWritePossible comes later; one that came while isReady() answered makes the loop go round.
                waitingSinceNanos = nanoClock.getAsLong();
                boolean ended;
                synchronized (lock) {
                    ended = status != null;
                }
                if (ended) {
                    // Ended by another thread (its end() made this turn): a client that stopped reading may
                    // never bring onWritePossible, so the response is ended now, not on a wake that may not come.
                    leaveEnded();
                    return OwnerLoop.Next.DONE;
                }
                return OwnerLoop.Next.WAIT;
            }
            Write next = null;
            Joined joined = null;
            Ending ending = null;
            Runnable room = null;
            boolean endedMeanwhile;
            synchronized (lock) {
                endedMeanwhile = status != null;
                if (!endedMeanwhile) {
                    next = queue.poll();
                    if (next != null && next.length() < JOIN_BYTES && queue.peek() != null) {
                        joined = joinLocked(next);
                    }
                    if (roomWaiter != null && queue.bytes() <= roomAt) {
                        room = roomWaiter;
                        roomWaiter = null;
                    }
                    if (next == null && !needsFlush && room == null) {
                        if (closing == null) {
                            return OwnerLoop.Next.IDLE;
                        }
                        ending = endLocked(closing, null, true, false);
                    }
                }
            }
            if (endedMeanwhile) {
                // Ended by another thread while we wrote: leaving the writer, we end the response.
                leaveEnded();
                return OwnerLoop.Next.DONE;
            }
            if (ending != null) {
                finish(ending);
                return OwnerLoop.Next.DONE;
            }
            if (room != null) {
                // Before this write: the producer refills (on its own thread) while the container takes it.
                runRoomWaiter(room);
                if (next == null && !needsFlush) {
                    continue; // Nothing to write yet: what the producer queued is the next cycle's.
                }
            }
            if (!writeOrFlush(out, next, joined)) {
                return OwnerLoop.Next.DONE;
            }
        }
    }

    /** Small queued writes after {@code first}, joined: one container write for all saves a cycle per write. */
    private Joined joinLocked(Write first) {
        List<Write> writes = null;
        int length = first.length();
        Write peek;
        while ((peek = queue.peek()) != null && length + peek.length() <= JOIN_BYTES) {
            if (writes == null) {
                writes = new ArrayList<>(4);
                writes.add(first);
            }
            writes.add(queue.poll());
            length += peek.length();
        }
        return writes == null ? null : new Joined(writes, length);
    }

    /** Writes taken from the queue together, and their length. */
    private record Joined(List<Write> writes, int length) {
    }

    /** One container call: the write (joined or not) or, with {@code next} null, the flush. False if it failed. */
    private boolean writeOrFlush(Transport out, Write next, Joined joined) {
        try {
            if (next == null) {
                out.flush();
                needsFlush = false;
            } else if (joined == null) {
                out.write(next.bytes(), next.offset(), next.length());
                written(next.length(), 1);
                if (out.holdsWrittenArrays()) {
                    taken = next;
                } else {
                    next.succeed();
                }
            } else {
                byte[] combined = new byte[joined.length()];
                int at = 0;
                for (Write w : joined.writes()) {
                    System.arraycopy(w.bytes(), w.offset(), combined, at, w.length());
                    at += w.length();
                }
                out.write(combined, 0, combined.length);
                written(combined.length, joined.writes().size());
                if (out.holdsWrittenArrays()) {
                    taken = joined;
                } else {
                    joined.writes().forEach(Write::succeed);
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            if (joined != null) {
                joined.writes().forEach(w -> w.fail(e));
            } else if (next != null) {
                next.fail(e);
            }
            failedByWriter(e);
            return false;
        }
    }

    /**
     * Completes what the container took: with {@code failure} null it has shown itself ready again (the bytes are
     * its own, the arrays no longer in use); otherwise the stream ended before it did, and they fail with it.
     */
    private void settleTaken(Throwable failure) {
        Object t = taken;
        if (t == null) {
            return;
        }
        taken = null;
        if (t instanceof Write w) {
            settle(w, failure);
        } else {
            for (Write w : ((Joined) t).writes()) {
                settle(w, failure);
            }
        }
    }

    private static void settle(Write w, Throwable failure) {
        if (failure == null) {
            w.succeed();
        } else {
            w.fail(failure);
        }
    }

    /** The owner found the stream ended by another thread: what the container took fails, the response ends. */
    private void leaveEnded() {
        CloseStatus s;
        synchronized (lock) {
            s = status;
        }
        settleTaken(closedException(s));
        completeTransport();
    }

    private void runRoomWaiter(Runnable room) {
        try {
            room.run();
        } catch (RuntimeException e) {
            log.warn("stream {}: room callback {} failed", id, room, e);
        }
    }

    /** The writer's books after a container write: bytes, writes, and the registry's byte count. */
    private void written(int length, int writes) {
        needsFlush = true;
        bytesWritten += length;
        writesDone += writes;
        LongAdder counter = byteCounter;
        if (counter != null) {
            counter.add(length);
        }
    }

    private void failedByWriter(Throwable e) {
        settleTaken(e);
        Ending ending;
        synchronized (lock) {
            ending = endLocked(statusFor(e), e, true, false);
        }
        if (ending != null) {
            finish(ending);
        } else {
            completeTransport();
        }
    }

    // ------------------------------------------------------------------ ends

    /** Graceful close: the queue drains, then the stream ends with {@code reason}. */
    void close(CloseReason reason, String detail) {
        Ending ending = null;
        synchronized (lock) {
            if (status != null || closing != null) {
                return;
            }
            closing = new CloseStatus(reason, detail);
            finishHeartbeatLocked();
            if (queue.isEmpty() && writer.state() == OwnerLoop.State.IDLE) {
                // Nothing queued and everything flushed: end now, from this thread, without a container call.
                ending = endLocked(closing, null, false, false);
            }
        }
        if (ending != null) {
            finish(ending);
        } else {
            // The owner ends it once the queue is empty; a WAITING writer, after the next onWritePossible.
            writer.run();
        }
    }

    /** Under the lock: queues the close of a half-written heartbeat, ahead of anything else. */
    private void finishHeartbeatLocked() {
        if (heartbeatPending) {
            heartbeatPending = false;
            queue.push(new Write(heartbeatClose, 0, heartbeatClose.length, null));
        }
    }

    /** Ends now, discarding queued bytes; the body is unfinished, so the connection is cut where the container can. */
    public void abort(CloseReason reason, String detail, Throwable cause) {
        Ending ending;
        synchronized (lock) {
            ending = endLocked(new CloseStatus(reason, detail), cause, false, false);
            if (ending != null && reason != CloseReason.HEAD_REQUEST && reason != CloseReason.COMPLETED) {
                cut = true;
            }
        }
        if (ending != null) {
            finish(ending);
        }
    }

    /** The container reported an error (AsyncListener or WriteListener onError). */
    public void onContainerError(Throwable t) {
        Ending ending;
        synchronized (lock) {
            ending = endLocked(statusFor(t), t, false, false);
        }
        if (ending != null) {
            finish(ending);
        }
    }

    /** The container completed the response itself (AsyncListener.onComplete without our complete()). */
    void onContainerComplete() {
        Ending ending;
        synchronized (lock) {
            ending = endLocked(new CloseStatus(CloseReason.CLIENT_GONE, "the container completed the response"), null,
                    false, true);
        }
        if (ending != null) {
            finish(ending);
        }
    }

    /** Checks heartbeat and time-outs; called by the scheduler every tick. */
    @Override
    public void tick(long now) {
        Ending ending = null;
        boolean heartbeat = false;
        boolean finishHeartbeat = false;
        synchronized (lock) {
            if (status != null) {
                return;
            }
            if (heartbeatPending) {
                // One tick after a heartbeat started: finish it. A vanished client fails this write.
                finishHeartbeatLocked();
                lastWriteNanos = now;
                finishHeartbeat = true;
            } else if (writeTimeoutNanos > 0 && writer.state() == OwnerLoop.State.WAITING
                    && now - waitingSinceNanos >= writeTimeoutNanos) {
                ending = endLocked(new CloseStatus(CloseReason.SLOW_CONSUMER, "no write progress for "
                        + millis(now - waitingSinceNanos) + " ms with " + queue.bytes() + " bytes queued"), null, false,
                        false);
            } else if (idleTimeoutNanos > 0 && closing == null && now - lastApplicationWriteNanos >= idleTimeoutNanos) {
                ending = endLocked(new CloseStatus(CloseReason.IDLE_TIMEOUT, "nothing sent for "
                        + millis(now - lastApplicationWriteNanos) + " ms"), null, false, false);
            } else if (heartbeatOpen != null && heartbeatNanos > 0 && closing == null && queue.isEmpty()
                    && now - lastWriteNanos >= heartbeatNanos) {
                // Only into an empty queue: bytes waiting for the client already keep the stream from being
                // silent, the write time-out watches their progress, and a heartbeat must never be what
                // overflows a full queue.
                heartbeat = true;
            }
        }
        if (finishHeartbeat) {
            writer.run();
        } else if (ending != null) {
            finish(ending);
        } else if (heartbeat) {
            // Null if it ended between the check and the write: nothing to do then.
            enqueue(new Write(heartbeatOpen, 0, heartbeatOpen.length, null), false);
        }
    }

    /** What to do, after releasing the lock, to end the stream: decided once by {@link #endLocked}. */
    private static final class Ending {
        final CloseStatus status;
        final Throwable cause;
        final List<Write> discarded;
        final List<Consumer<CloseStatus>> callbacks;
        /** The caller owns the writer now (it was its own, idle or waiting): what the container took is its to fail. */
        final boolean ownsWriter;
        final boolean completeTransport;
        final StreamScheduler scheduler;
        final String description;

        Ending(CloseStatus status, Throwable cause, List<Write> discarded, List<Consumer<CloseStatus>> callbacks,
                boolean ownsWriter, boolean completeTransport, StreamScheduler scheduler, String description) {
            this.status = status;
            this.cause = cause;
            this.discarded = discarded;
            this.callbacks = callbacks;
            this.ownsWriter = ownsWriter;
            this.completeTransport = completeTransport;
            this.scheduler = scheduler;
            this.description = description;
        }
    }

    /**
     * Decides the end, under the lock. Returns null if it was already decided. The response is completed
     * by the caller unless another thread is inside the output stream, which then completes it on leaving,
     * or the container already completed it.
     */
    private Ending endLocked(CloseStatus end, Throwable cause, boolean callerIsWriter, boolean transportComplete) {
        if (status != null) {
            return null;
        }
        status = end;
        roomWaiter = null;
        cut = end.reason() == CloseReason.SLOW_CONSUMER || end.reason() == CloseReason.ERROR;
        List<Write> discarded = new ArrayList<>(queue.size());
        queue.drainTo(discarded);
        // The writer ends the response itself (it returns DONE after this), or nobody owns the writer and this
        // caller does; an owner on another thread goes round, finds the status and ends it on leaving.
        boolean unowned = callerIsWriter || writer.end();
        boolean complete = unowned && !transportComplete;
        List<Consumer<CloseStatus>> toRun = callbacks;
        callbacks = null;
        return new Ending(end, cause, discarded, toRun, unowned, complete, timers, description);
    }

    /** Carries out an {@link Ending}, outside the lock. */
    private void finish(Ending ending) {
        if (ending.ownsWriter && taken != null) {
            settleTaken(closedException(ending.status));
        }
        if (!ending.discarded.isEmpty()) {
            StreamClosedException e = closedException(ending.status);
            ending.discarded.forEach(w -> w.fail(e));
        }
        if (ending.completeTransport) {
            completeTransport();
        }
        if (ending.scheduler != null) {
            ApiAccess.api().unregister(ending.scheduler, this);
        }
        logEnd(ending);
        // Callbacks first: whoever waits on whenClosed() finds their bookkeeping (a registry's counts) done.
        for (Consumer<CloseStatus> callback : ending.callbacks) {
            runCallback(callback, ending.status);
        }
        closed.complete(ending.status);
    }

    private void completeTransport() {
        Transport t = transport;
        if (t == null) {
            return;
        }
        try {
            if (cut) {
                t.abort();
            } else {
                t.complete();
            }
        } catch (RuntimeException e) {
            log.debug("stream {}: ending the response failed: {}", id, e.toString());
        }
    }

    private void runCallback(Consumer<CloseStatus> callback, CloseStatus s) {
        try {
            callback.accept(s);
        } catch (RuntimeException e) {
            log.warn("stream {}: close callback {} failed", id, callback, e);
        }
    }

    private void logEnd(Ending ending) {
        CloseStatus s = ending.status;
        long ms = millis(nanoClock.getAsLong() - openedNanos);
        String format = "stream {} {} ended: {} after {} ms, {} bytes in {} writes";
        Object[] args = {id, ending.description, s, ms, bytesWritten, writesDone};
        switch (s.reason()) {
            case ERROR -> {
                if (ending.cause != null) {
                    Object[] withCause = Arrays.copyOf(args, args.length + 1);
                    withCause[args.length] = ending.cause;
                    log.warn(format, withCause);
                } else {
                    log.warn(format, args);
                }
            }
            case SLOW_CONSUMER -> log.info(format, args);
            default -> log.debug(format, args);
        }
    }

    private static CloseStatus statusFor(Throwable t) {
        if (t instanceof IOException || t.getCause() instanceof IOException) {
            String message = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
            return new CloseStatus(CloseReason.CLIENT_GONE, message);
        }
        return new CloseStatus(CloseReason.ERROR, String.valueOf(t));
    }

    // ------------------------------------------------------------------ observers

    void onClose(Consumer<CloseStatus> callback) {
        CloseStatus ended;
        synchronized (lock) {
            if (callbacks != null) {
                callbacks.add(callback);
                return;
            }
            ended = status;
        }
        runCallback(callback, ended);
    }

    public boolean isOpen() {
        synchronized (lock) {
            return status == null && closing == null;
        }
    }

    public Optional<CloseStatus> closeStatus() {
        synchronized (lock) {
            return Optional.ofNullable(status);
        }
    }

    CompletionStage<CloseStatus> whenClosed() {
        return closed.minimalCompletionStage();
    }

    public long queuedBytes() {
        synchronized (lock) {
            return queue.bytes();
        }
    }

    /** Under the lock: a closing stream (its last bytes still draining) counts as closed for writers. */
    private StreamClosedException closedException() {
        return closedException(status != null ? status : closing);
    }

    private StreamClosedException closedException(CloseStatus s) {
        return new StreamClosedException("stream " + id + " already closed: " + s, s);
    }

    private static long millis(long nanos) {
        return nanos / 1_000_000;
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "Connection[" + id + " " + description + " writer " + writer.state() + ", queued " + queue.bytes() + "/"
                    + queue.bound() + " B in " + queue.size() + ", " + (status != null ? "ended " + status
                    : closing != null ? "closing " + closing : "open") + "]";
        }
    }
}
