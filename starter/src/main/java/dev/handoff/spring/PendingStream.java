package dev.handoff.spring;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.QueueFullException;
import dev.handoff.core.StreamClosedException;
import dev.handoff.core.StreamHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A stream handle a controller returns before its request is handed off: what is done to it is kept, in
 * order and bounded, and replayed onto the real stream once {@link StreamReturnValueHandler} attaches it.
 *
 * <pre>
 *   PENDING ──attach()──▶ FLUSHING ──buffer empty──▶ ATTACHED    (every call delegates)
 *      │                  (one kept send at a time, each once the container took the one before;
 *      │                   new sends queue behind the kept ones)
 *      └──fail()──▶ FAILED                                      (the handoff was refused or failed)
 * </pre>
 *
 * Sends made while flushing join the buffer and go out in order; nothing is sent to the real stream
 * while holding the lock.
 */
abstract class PendingStream<T extends StreamHandle> implements StreamHandle {

    private enum State {
        /** Not attached: calls are kept. */
        PENDING,
        /** Attached; the kept calls are being replayed. */
        FLUSHING,
        /** Every call goes to the real stream. */
        ATTACHED,
        /** The handoff did not happen; the stream never opened. */
        FAILED
    }

    /** A kept send: its size against the bound, the call, and the stage the caller got. */
    private record Op<T>(int bytes, Function<T, CompletionStage<Void>> call, CompletableFuture<Void> result) {
    }

    private final int maxBufferedBytes;
    private final CompletableFuture<CloseStatus> closed = new CompletableFuture<>();

    // ---- Guarded by lock.
    private final Object lock = new Object();
    private State state = State.PENDING;
    private final ArrayDeque<Op<T>> buffered = new ArrayDeque<>();
    private long bufferedBytes;
    private List<Consumer<CloseStatus>> callbacks = new ArrayList<>(2);
    /** A close asked for before attaching: applied after the kept sends. */
    private CloseStatus requestedClose;
    private boolean abortRequested;
    private T target;
    private CloseStatus failedStatus;

    PendingStream(int maxBufferedBytes) {
        this.maxBufferedBytes = maxBufferedBytes;
    }

    /** Sends now if attached, else keeps the call. */
    final CompletionStage<Void> submit(int bytes, Function<T, CompletionStage<Void>> call) {
        T t;
        synchronized (lock) {
            if (state != State.ATTACHED) {
                if (state == State.FAILED) {
                    throw new StreamClosedException("stream never opened: " + failedStatus, failedStatus);
                }
                if (requestedClose != null) {
                    throw new StreamClosedException("stream already closed: " + requestedClose, requestedClose);
                }
                if (!buffered.isEmpty() && bufferedBytes + bytes > maxBufferedBytes) {
                    throw new QueueFullException("cannot keep " + bytes + " more bytes for a stream not yet opened: "
                            + bufferedBytes + " are kept and the bound is " + maxBufferedBytes);
                }
                CompletableFuture<Void> result = new CompletableFuture<>();
                buffered.addLast(new Op<>(bytes, call, result));
                bufferedBytes += bytes;
                return result;
            }
            t = target;
        }
        return call.apply(t);
    }

    /**
     * Binds the real stream and replays what was kept onto it, by demand: each kept send is handed over once
     * the container took the one before (its stage completed), so a kept backlog never overflows the real
     * stream's queue, whatever else (a registry's catch-up) fills it. Called once, by the return value handler.
     */
    final void attach(T real) {
        List<Consumer<CloseStatus>> toRegister;
        synchronized (lock) {
            if (state != State.PENDING) {
                throw new IllegalStateException("this stream was already attached (" + state + "): return a stream "
                        + "from one request only");
            }
            state = State.FLUSHING;
            target = real;
            toRegister = callbacks;
            callbacks = null;
        }
        real.whenClosed().whenComplete((status, e) -> closed.complete(status));
        toRegister.forEach(real::onClose);
        flushFrom(real);
    }

    /**
     * Hands over kept sends while each is taken at once; the first that waits for the client resumes this
     * from its completion. Once nothing is kept, every call goes straight to the real stream, and a close
     * asked for meanwhile is applied after the kept sends.
     */
    private void flushFrom(T real) {
        while (true) {
            Op<T> op;
            CloseStatus close = null;
            boolean abort = false;
            synchronized (lock) {
                op = buffered.pollFirst();
                if (op == null) {
                    state = State.ATTACHED;
                    close = requestedClose;
                    abort = abortRequested;
                } else {
                    bufferedBytes -= op.bytes();
                }
            }
            if (op == null) {
                if (close != null) {
                    if (abort) {
                        real.abort(close.reason(), close.detail());
                    } else {
                        real.close(close.reason(), close.detail());
                    }
                }
                return;
            }
            CompletableFuture<Void> taken = replay(op, real);
            if (!taken.isDone()) {
                taken.whenComplete((v, e) -> flushFrom(real));
                return;
            }
        }
    }

    /** Sends one kept call to the real stream; the caller's stage follows the real one. */
    private CompletableFuture<Void> replay(Op<T> op, T real) {
        try {
            CompletableFuture<Void> stage = op.call().apply(real).toCompletableFuture();
            stage.whenComplete((v, e) -> {
                if (e != null) {
                    op.result().completeExceptionally(e);
                } else {
                    op.result().complete(null);
                }
            });
            return stage;
        } catch (RuntimeException e) {
            op.result().completeExceptionally(e);
            return CompletableFuture.completedFuture(null);
        }
    }

    /** The handoff did not happen: the stream ends without ever opening. */
    final void fail(Throwable cause) {
        CloseStatus status = new CloseStatus(CloseReason.ERROR, "the stream never opened: " + cause);
        List<Op<T>> dropped;
        List<Consumer<CloseStatus>> toRun;
        synchronized (lock) {
            if (state != State.PENDING) {
                return;
            }
            state = State.FAILED;
            failedStatus = status;
            dropped = new ArrayList<>(buffered);
            buffered.clear();
            bufferedBytes = 0;
            toRun = callbacks;
            callbacks = null;
        }
        StreamClosedException e = new StreamClosedException("stream never opened: " + status, status);
        dropped.forEach(op -> op.result().completeExceptionally(e));
        closed.complete(status);
        toRun.forEach(callback -> callback.accept(status));
    }

    /** The real stream, or null while not attached. */
    final T target() {
        synchronized (lock) {
            return state == State.ATTACHED || state == State.FLUSHING ? target : null;
        }
    }

    private T attached() {
        synchronized (lock) {
            return state == State.ATTACHED ? target : null;
        }
    }

    @Override
    public long id() {
        T t = target();
        return t == null ? 0 : t.id();
    }

    @Override
    public boolean isOpen() {
        synchronized (lock) {
            return switch (state) {
                case PENDING, FLUSHING -> requestedClose == null && (target == null || target.isOpen());
                case ATTACHED -> target.isOpen();
                case FAILED -> false;
            };
        }
    }

    @Override
    public void close() {
        close(CloseReason.COMPLETED, "closed by the application");
    }

    @Override
    public void close(CloseReason reason, String detail) {
        end(reason, detail, false);
    }

    @Override
    public void abort(CloseReason reason, String detail) {
        end(reason, detail, true);
    }

    private void end(CloseReason reason, String detail, boolean abort) {
        T t;
        synchronized (lock) {
            t = state == State.ATTACHED ? target : null;
            if (t == null) {
                if (state != State.FAILED && requestedClose == null) {
                    requestedClose = new CloseStatus(reason, detail);
                    abortRequested = abort;
                }
                return;
            }
        }
        if (abort) {
            t.abort(reason, detail);
        } else {
            t.close(reason, detail);
        }
    }

    @Override
    public Optional<CloseStatus> closeStatus() {
        synchronized (lock) {
            if (state == State.FAILED) {
                return Optional.of(failedStatus);
            }
        }
        T t = attached();
        return t == null ? Optional.empty() : t.closeStatus();
    }

    @Override
    public CompletionStage<CloseStatus> whenClosed() {
        return closed.minimalCompletionStage();
    }

    @Override
    public void onClose(Consumer<CloseStatus> callback) {
        CloseStatus failed;
        T t;
        synchronized (lock) {
            if (callbacks != null) {
                callbacks.add(callback);
                return;
            }
            failed = failedStatus;
            t = target;
        }
        if (failed != null) {
            callback.accept(failed);
        } else {
            t.onClose(callback);
        }
    }

    @Override
    public long queuedBytes() {
        T t = attached();
        if (t != null) {
            return t.queuedBytes();
        }
        synchronized (lock) {
            return bufferedBytes;
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return getClass().getSimpleName() + "[" + state + ", " + buffered.size() + " kept (" + bufferedBytes
                    + " B)" + (target != null ? ", " + target : "") + "]";
        }
    }
}
