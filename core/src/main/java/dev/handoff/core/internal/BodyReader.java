package dev.handoff.core.internal;

import dev.handoff.core.RequestBody;
import dev.handoff.core.RequestBodyException;
import dev.handoff.core.StreamScheduler;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a request body through the container's non-blocking {@link ReadListener}, as fast as its subscriber
 * asks for it.
 *
 * <p><b>The problem.</b> The container calls {@code onDataAvailable()} when bytes can be read, and only
 * again after {@code isReady()} returned false. A subscriber asks for more whenever it likes, on any thread.
 * If we read whenever data is available, we buffer ahead of the subscriber; if we return from
 * {@code onDataAvailable()} without reading while {@code isReady()} is true, the container will not call
 * again, so the next read must be started by the subscriber's {@code request(n)}.
 *
 * <p><b>The approach</b> mirrors {@link Connection}'s writer: one owner at a time reads and emits, through an
 * {@link OwnerLoop}. A subscriber's {@code request(n)} runs it (on the subscriber's thread if nobody owns it);
 * the container's {@code onDataAvailable()}, and an end that is due (the body's end, a failure, a time-out),
 * wake it. The owner reads one buffer per unit of demand while {@code isReady()}; with no demand left it goes
 * {@code IDLE}; when {@code isReady()} is false it leaves the reader {@code WAITING} for the container.
 * Completion and errors are emitted by the owner too, so the subscriber's signals never overlap. What to do
 * is decided under the lock; the container and the subscriber are called outside it.
 *
 * <pre>
 *                   request(n) finds IDLE: the subscriber's thread becomes the owner
 *          ┌──────────────────────────────────────────────────────────┐
 *          │                                                          ▼
 *        IDLE ◀──────────── demand used up (or no subscriber yet) ─ RUNNING ── body ended, failed, ──▶ DONE
 *                                                                 │  ▲       or cancelled: the
 *                                                 isReady() false │  │       owner signals it
 *                                                                 ▼  │ onDataAvailable(), or an end
 *   new BodyReader ── the container's first onDataAvailable ──▶ WAITING  due (onAllDataRead, onError, a
 *                     is due after setReadListener                      time-out): its thread owns
 * </pre>
 *
 * <p>Every event in every reader state (the diagram's legend; the states are the reader's {@link OwnerLoop}'s,
 * RUNNING standing for RUNNING, RERUN and WOKEN):
 *
 * <pre>
 *  event \ reader            IDLE                   RUNNING (an owner)         WAITING                  DONE
 *  ---------------------------------------------------------------------------------------------------------------
 *  subscribe, request(n)     run: owns it, reads    run: goes round (RERUN)    -: onDataAvailable       -
 *                            what is demanded                                  will read it
 *  onDataAvailable()         wake: reads if there   wake: goes round even      wake: owns it, reads     -
 *                            is demand              past a WAIT (WOKEN)        if there is demand
 *  an end due: onAllDataRead wake: owns it,         wake: goes round,          wake: owns it,           -
 *  onError, exchange ended,  signals the end        signals the end            signals the end
 *  time-out, request(0)
 *  cancel()                  end: DONE now          end: goes round, DONE      end: DONE now            -
 *  demand used up            ise                    IDLE                       ise                      ise
 *  isReady() false           ise                    WAITING; the idle time-    ise                      ise
 *                                                   out counts from now
 *  body read, or failed      ise                    DONE: onComplete/onError   ise                      ise
 *
 *  run, wake, end   the reader loop's calls          -   nothing to do
 *  ise              cannot happen: only the owner reads, so only it sees isReady() and read()'s results
 * </pre>
 */
public final class BodyReader implements RequestBody, ReadListener, Flow.Subscription, Timed {

    private static final Logger log = LoggerFactory.getLogger(BodyReader.class);
    private static final AtomicLong IDS = new AtomicLong();
    public static final int BUFFER_SIZE = 16 * 1024;

    // ---- Fixed at construction.
    private final long id = IDS.incrementAndGet();
    private final String description;
    private final ServletInputStream in;
    private final long contentLength;
    private final long maxBytes;
    private final long idleNanos;
    /** Slowest accepted body, bytes per second of waiting for the client; 0 for none. */
    private final long minRate;
    private final long rateWindowNanos;
    private final int bufferSize;
    private final StreamScheduler scheduler;
    private final LongSupplier clock;
    /** Answers the request when the body broke one of its rules (called once, outside the lock). */
    private final Consumer<RequestBodyException> onRuleBroken;
    /**
     * Ends the request when the container reported the body broken: at once, outside the lock, whether or
     * not anyone subscribed and whatever the subscriber does with the error.
     */
    private final Consumer<RequestBodyException> onBrokenInContainer;
    private final long startedNanos;

    // ---- Guarded by lock.
    private final Object lock = new Object();
    private Flow.Subscriber<? super ByteBuffer> subscriber;
    private long demand;
    /** The whole body was read. */
    private boolean finished;
    /** What ends the body with an error, to be delivered by the owner. */
    private Throwable failure;
    private boolean cancelled;
    /** When the reader last began waiting for onDataAvailable; written by the owner, read by the tick. */
    private volatile long waitingSince;
    /** The minimum rate's books: time spent waiting for the client in this window, and the bytes at its start. */
    private long waitedNanos;
    private long windowStartBytes;
    private long lastTick;

    // ---- The reader: one owner at a time (see the class description).
    private final OwnerLoop reader = new OwnerLoop("request body reader", new OwnerLoop.Work() {
        @Override
        public OwnerLoop.Next process() {
            return readCycles();
        }

        @Override
        public String toString() {
            return BodyReader.this.toString();
        }
    }, true);
    /** Written by the owner only; read by anyone. */
    private volatile long bytes;

    public BodyReader(String description, ServletInputStream in, long contentLength, long maxBytes, long idleNanos,
            long minRate, long rateWindowNanos, int bufferSize, StreamScheduler scheduler, LongSupplier clock,
            Consumer<RequestBodyException> onRuleBroken, Consumer<RequestBodyException> onBrokenInContainer) {
        this.description = description;
        this.in = in;
        this.contentLength = contentLength;
        this.maxBytes = maxBytes;
        this.idleNanos = idleNanos;
        this.minRate = minRate;
        this.rateWindowNanos = rateWindowNanos;
        this.bufferSize = bufferSize;
        this.scheduler = scheduler;
        this.clock = clock;
        this.onRuleBroken = onRuleBroken;
        this.onBrokenInContainer = onBrokenInContainer;
        this.startedNanos = clock.getAsLong();
        this.waitingSince = startedNanos;
        this.lastTick = startedNanos;
        if (needsTimer()) {
            ApiAccess.api().register(scheduler, this);
        }
    }

    private boolean needsTimer() {
        return idleNanos > 0 || minRate > 0;
    }

    // ------------------------------------------------------------------ RequestBody

    @Override
    public long contentLength() {
        return contentLength;
    }

    @Override
    public long bytesRead() {
        return bytes;
    }

    @Override
    public long maxBytes() {
        return maxBytes;
    }

    @Override
    public CompletionStage<Long> toFile(Path file) {
        FileSink sink = new FileSink(Objects.requireNonNull(file, "file"), command -> {
            try {
                scheduler.executor().execute(command);
            } catch (RejectedExecutionException shutDown) {
                command.run(); // No pool any more: go on where the write ended.
            }
        });
        subscribe(sink);
        return sink.result();
    }

    @Override
    public CompletionStage<Long> lines(int maxLineBytes, Consumer<String> onLine) {
        LineSplitter splitter = new LineSplitter(maxLineBytes, Objects.requireNonNull(onLine, "onLine"));
        subscribe(splitter);
        return splitter.result().whenComplete((lines, e) -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof RequestBodyException tooLong) {
                // The splitter stopped reading: the rest of the body is unread, so the request is answered now.
                onRuleBroken.accept(tooLong);
            }
        });
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
        Objects.requireNonNull(s, "subscriber");
        boolean first;
        synchronized (lock) {
            first = subscriber == null;
            if (first) {
                subscriber = s;
            }
        }
        if (!first) {
            s.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                }

                @Override
                public void cancel() {
                }
            });
            s.onError(new IllegalStateException("a request body can be read once: it already has a subscriber ("
                    + this + ")"));
            return;
        }
        s.onSubscribe(this);
        // The body may have ended or failed before anyone subscribed: the new subscriber must hear it.
        boolean endDue;
        synchronized (lock) {
            endDue = failure != null || finished;
        }
        if (endDue) {
            reader.wake();
        } else {
            reader.run();
        }
    }

    // ------------------------------------------------------------------ Flow.Subscription

    @Override
    public void request(long n) {
        boolean invalid = false;
        synchronized (lock) {
            if (n <= 0) {
                invalid = failure == null;
                failure = failure != null ? failure : new IllegalArgumentException("request(" + n + "): the demand "
                        + "must be positive (Reactive Streams rule 3.9)");
            } else {
                demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
            }
        }
        if (invalid) {
            reader.wake(); // An end is due: delivered even while the container would be the next to call.
        } else {
            reader.run();
        }
    }

    @Override
    public void cancel() {
        synchronized (lock) {
            if (cancelled) {
                return;
            }
            cancelled = true;
        }
        if (reader.end()) {
            ended("cancelled by its subscriber");
        }
    }

    // ------------------------------------------------------------------ ReadListener: container threads

    @Override
    public void onDataAvailable() {
        reader.wake();
    }

    @Override
    public void onAllDataRead() {
        synchronized (lock) {
            finished = true;
        }
        reader.wake();
    }

    /** The container says the body broke: cut short, malformed, reset, or its own idle time-out. */
    @Override
    public void onError(Throwable t) {
        brokenInContainer(t);
        reader.wake();
    }

    /**
     * The container reported the body broken, through {@link #onError} or by throwing from a read (Jetty
     * reports a client that half-closed mid-body that way): the first report fails the body and ends the
     * request.
     */
    private void brokenInContainer(Throwable t) {
        RequestBodyException broken = brokenBody(t, bytes);
        boolean first;
        synchronized (lock) {
            first = failure == null && !finished && !cancelled;
            if (first) {
                failure = broken;
            }
        }
        if (first) {
            onBrokenInContainer.accept(broken);
        }
    }

    /** The exchange ended (the container reported an error, or the response completed) before the body did. */
    void onExchangeEnded(Throwable t) {
        fail(t);
    }

    private void fail(Throwable t) {
        synchronized (lock) {
            if (failure == null && !finished) {
                failure = t;
            }
        }
        reader.wake();
    }

    /** Checks the idle time-out; called by the scheduler every tick. */
    @Override
    public void tick(long now) {
        boolean timedOut;
        synchronized (lock) {
            boolean waitingForClient = reader.state() == OwnerLoop.State.WAITING && subscriber != null && demand > 0
                    && failure == null && !finished;
            long sinceLastTick = now - lastTick;
            lastTick = now;
            if (waitingForClient && idleNanos > 0 && now - waitingSince >= idleNanos) {
                failure = new RequestBodyException(408, "no request body bytes for " + (now - waitingSince) / 1_000_000
                        + " ms (idle time-out " + idleNanos / 1_000_000 + " ms) after " + bytes + " bytes");
            } else if (waitingForClient && minRate > 0) {
                // Only time spent waiting for the client counts: a subscriber that asks for nothing slows no one.
                waitedNanos += sinceLastTick;
                if (waitedNanos >= rateWindowNanos) {
                    long got = bytes - windowStartBytes;
                    long rate = (long) (got / (waitedNanos / 1e9));
                    if (rate < minRate) {
                        failure = new RequestBodyException(408, "request body arrived at " + rate + " bytes/s over "
                                + waitedNanos / 1_000_000 + " ms, under this endpoint's minimum of " + minRate
                                + " bytes/s (" + bytes + " bytes so far)");
                    }
                    waitedNanos = 0;
                    windowStartBytes = bytes;
                }
            }
            timedOut = failure != null && waitingForClient;
        }
        if (timedOut) {
            reader.wake();
        }
    }

    @Override
    public long id() {
        return id;
    }

    // ------------------------------------------------------------------ the owner

    /**
     * The owner's work: reads while there is demand and data, delivers an end that is due, and says what
     * the reader waits for next.
     */
    private OwnerLoop.Next readCycles() {
        while (true) {
            Flow.Subscriber<? super ByteBuffer> s;
            Throwable error = null;
            boolean complete = false;
            boolean stop = false;
            synchronized (lock) {
                s = subscriber;
                if (cancelled) {
                    stop = true;
                } else if (s == null) {
                    return OwnerLoop.Next.IDLE; // subscribe() runs it again
                } else if (failure != null) {
                    error = failure;
                } else if (finished) {
                    complete = true;
                } else if (demand == 0) {
                    return OwnerLoop.Next.IDLE;
                }
            }
            if (stop) {
                ended("cancelled by its subscriber");
                return OwnerLoop.Next.DONE;
            }
            if (error != null) {
                ended("failed: " + error);
                Throwable cause = error;
                signal(s, () -> s.onError(cause), "onError");
                if (error instanceof RequestBodyException broken) {
                    onRuleBroken.accept(broken);
                }
                return OwnerLoop.Next.DONE;
            }
            if (complete) {
                ended("completed");
                signal(s, s::onComplete, "onComplete");
                return OwnerLoop.Next.DONE;
            }
            if (!readOnce(s)) {
                waitingSince = clock.getAsLong();
                return OwnerLoop.Next.WAIT;
            }
        }
    }

    /** Reads and emits one buffer; returns false when the container has no data now (isReady() false). */
    private boolean readOnce(Flow.Subscriber<? super ByteBuffer> s) {
        int n;
        byte[] buffer;
        try {
            if (!in.isReady()) {
                return false;
            }
            buffer = new byte[bufferSize];
            n = in.read(buffer);
        } catch (IOException | RuntimeException e) {
            brokenInContainer(e);
            return true;
        }
        if (n > 0 && bytes + n > maxBytes) {
            bytes += n;
            synchronized (lock) {
                if (failure == null) {
                    failure = new RequestBodyException(413, "request body over this endpoint's limit of " + maxBytes
                            + " bytes (" + bytes + " read so far)");
                }
            }
            return true;
        }
        if (n < 0) {
            synchronized (lock) {
                finished = true;
            }
            return true;
        }
        if (n > 0) {
            bytes += n;
            synchronized (lock) {
                demand--;
            }
            try {
                s.onNext(ByteBuffer.wrap(buffer, 0, n));
            } catch (RuntimeException e) {
                log.warn("request body of {}: its subscriber failed in onNext; reading stops", description, e);
                synchronized (lock) {
                    cancelled = true;
                }
            }
        }
        if (in.isFinished()) {
            synchronized (lock) {
                finished = true;
            }
        }
        return true;
    }

    /** A terminal signal: a subscriber that throws from it is logged, never left to the container's thread. */
    private void signal(Flow.Subscriber<?> s, Runnable call, String name) {
        try {
            call.run();
        } catch (RuntimeException e) {
            log.warn("request body of {}: its subscriber {} failed in {}", description, s, name, e);
        }
    }

    private void ended(String how) {
        if (needsTimer()) {
            ApiAccess.api().unregister(scheduler, this);
        }
        log.debug("request body of {}: {} after {} ms, {} bytes", description, how,
                (clock.getAsLong() - startedNanos) / 1_000_000, bytes);
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "BodyReader[" + description + " reader " + reader.state() + ", " + bytes + "/" + maxBytes + " B, demand " + demand
                    + (finished ? ", finished" : "") + (failure != null ? ", failed " + failure : "") + "]";
        }
    }

    /** A body the container reported broken after {@code bytesRead} bytes: 408 for its time-out, else 400. */
    private static RequestBodyException brokenBody(Throwable cause, long bytesRead) {
        if (FailureText.isTimeout(cause)) {
            return new RequestBodyException(408, "no request body bytes within the server's idle time-out, after "
                    + bytesRead + " bytes (" + FailureText.brief(cause) + ")", cause);
        }
        return new RequestBodyException(400, "the request body broke off after " + bytesRead + " bytes ("
                + FailureText.brief(cause) + ")", cause);
    }
}
