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
 * <p><b>The approach</b> mirrors {@link Connection}'s writer: one owner at a time reads and emits. Whoever
 * moves the state to {@code READING} (the container in {@code onDataAvailable}, or a subscriber's
 * {@code request(n)} while {@code PAUSED}) reads one buffer per unit of demand while {@code isReady()}; with
 * no demand left it stops ({@code PAUSED}); when {@code isReady()} is false it hands over to the container
 * ({@code WAITING}). Completion and errors are emitted by the owner too, so the subscriber's signals never
 * overlap. Decisions are made under the lock; the container and the subscriber are called outside it.
 *
 * <pre>
 *                       request(n) while PAUSED: caller becomes the owner
 *          ┌──────────────────────────────────────────────────┐
 *          │                                                  ▼
 *       PAUSED ◀──────────── demand used up ─────────────  READING ──── body ended, failed, or cancelled ──▶ DONE
 *                                                          │  ▲
 *                                   isReady() false       │  │ onDataAvailable()
 *                                                          ▼  │
 *   (start) ─────────────────────────────────────────▶  WAITING
 * </pre>
 */
public final class BodyReader implements RequestBody, ReadListener, Flow.Subscription, Timed {

    private static final Logger log = LoggerFactory.getLogger(BodyReader.class);
    private static final AtomicLong IDS = new AtomicLong();
    public static final int BUFFER_SIZE = 16 * 1024;

    /** The reader's states; see the diagram in the class description. */
    enum State {
        /** The container will call onDataAvailable (isReady() returned false, or its first call is due). */
        WAITING,
        /** No demand: nobody reads. The next request(n) reads on its caller's thread. */
        PAUSED,
        /** One thread owns the input stream and the subscriber's signals. */
        READING,
        /** The subscriber got onComplete or onError, or cancelled: nobody reads again. */
        DONE
    }

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
    private State state = State.WAITING;
    private long demand;
    /** onDataAvailable arrived while the owner was between isReady() == false and taking the lock. */
    private boolean dataSignalled;
    /** The whole body was read. */
    private boolean finished;
    /** What ends the body with an error, to be delivered by the owner. */
    private Throwable failure;
    private boolean cancelled;
    private long waitingSince;
    /** The minimum rate's books: time spent waiting for the client in this window, and the bytes at its start. */
    private long waitedNanos;
    private long windowStartBytes;
    private long lastTick;

    // ---- Written by the owner only; read by anyone.
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
        FileSink sink = new FileSink(Objects.requireNonNull(file, "file"));
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
            s.onError(new IllegalStateException("a request body can be read once: it already has a subscriber"));
            return;
        }
        s.onSubscribe(this);
        // The body may have ended or failed before anyone subscribed: the new subscriber must hear it.
        wake();
    }

    // ------------------------------------------------------------------ Flow.Subscription

    @Override
    public void request(long n) {
        boolean drain;
        synchronized (lock) {
            if (n <= 0) {
                failure = failure != null ? failure : new IllegalArgumentException("request(" + n + "): the demand "
                        + "must be positive (Reactive Streams rule 3.9)");
            } else {
                demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
            }
            drain = claimLocked();
        }
        if (drain) {
            drain();
        }
    }

    @Override
    public void cancel() {
        boolean ended = false;
        synchronized (lock) {
            cancelled = true;
            if (state == State.PAUSED || state == State.WAITING) {
                state = State.DONE;
                ended = true;
            }
        }
        if (ended) {
            ended("cancelled by its subscriber");
        }
    }

    // ------------------------------------------------------------------ ReadListener: container threads

    @Override
    public void onDataAvailable() {
        boolean drain = false;
        synchronized (lock) {
            if (state == State.WAITING) {
                if (demand > 0 && subscriber != null) {
                    state = State.READING;
                    drain = true;
                } else {
                    state = State.PAUSED;
                }
            } else if (state == State.READING) {
                dataSignalled = true;
            }
        }
        if (drain) {
            drain();
        }
    }

    @Override
    public void onAllDataRead() {
        synchronized (lock) {
            finished = true;
        }
        wake();
    }

    /** The container says the body broke: cut short, malformed, reset, or its own idle time-out. */
    @Override
    public void onError(Throwable t) {
        brokenInContainer(t);
        wake();
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
        wake();
    }

    /** Checks the idle time-out; called by the scheduler every tick. */
    @Override
    public void tick(long now) {
        boolean drain = false;
        synchronized (lock) {
            boolean waitingForClient = state == State.WAITING && subscriber != null && demand > 0 && failure == null
                    && !finished;
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
            if (failure != null && waitingForClient) {
                state = State.READING;
                drain = true;
            }
        }
        if (drain) {
            drain();
        }
    }

    @Override
    public long id() {
        return id;
    }

    // ------------------------------------------------------------------ the owner

    /** Takes ownership to deliver an end that is due, if nobody owns the reader. */
    private void wake() {
        boolean drain;
        synchronized (lock) {
            drain = claimLocked();
        }
        if (drain) {
            drain();
        }
    }

    /** Under the lock: becomes the owner where there is demand to serve or an end to deliver, and no owner. */
    private boolean claimLocked() {
        if (subscriber == null || cancelled) {
            return false;
        }
        boolean endDue = failure != null || finished;
        if (state == State.PAUSED && (demand > 0 || endDue)) {
            state = State.READING;
            return true;
        }
        if (state == State.WAITING && endDue) {
            state = State.READING;
            return true;
        }
        return false;
    }

    /** The owner's loop: reads one buffer per unit of demand while the container has data. */
    private void drain() {
        while (true) {
            Flow.Subscriber<? super ByteBuffer> s;
            Throwable error = null;
            boolean complete = false;
            boolean stop = false;
            synchronized (lock) {
                s = subscriber;
                if (cancelled) {
                    state = State.DONE;
                    stop = true;
                } else if (failure != null) {
                    state = State.DONE;
                    error = failure;
                } else if (finished) {
                    state = State.DONE;
                    complete = true;
                } else if (demand == 0) {
                    state = State.PAUSED;
                    return;
                }
            }
            if (stop) {
                ended("cancelled by its subscriber");
                return;
            }
            if (error != null) {
                ended("failed: " + error);
                Throwable cause = error;
                signal(s, () -> s.onError(cause), "onError");
                if (error instanceof RequestBodyException broken) {
                    onRuleBroken.accept(broken);
                }
                return;
            }
            if (complete) {
                ended("completed");
                signal(s, s::onComplete, "onComplete");
                return;
            }
            if (!readOnce(s)) {
                return;
            }
        }
    }

    /** Reads and emits one buffer; returns false once ownership went to the container (WAITING). */
    private boolean readOnce(Flow.Subscriber<? super ByteBuffer> s) {
        int n;
        byte[] buffer;
        try {
            if (!in.isReady()) {
                synchronized (lock) {
                    if (dataSignalled) {
                        dataSignalled = false;
                    } else if (failure == null && !finished && !cancelled) {
                        state = State.WAITING;
                        waitingSince = clock.getAsLong();
                        return false;
                    }
                }
                return true;
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

    State state() {
        synchronized (lock) {
            return state;
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "BodyReader[" + description + " " + state + ", " + bytes + "/" + maxBytes + " B, demand " + demand
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
