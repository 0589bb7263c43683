package dev.handoff.test;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.StreamHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/** What the recording streams share: an id, and an end that is recorded and told to callbacks once. */
abstract class RecordingHandle implements StreamHandle {

    private static final AtomicLong IDS = new AtomicLong();

    private final long id = IDS.incrementAndGet();
    private final CompletableFuture<CloseStatus> closed = new CompletableFuture<>();
    private final List<Consumer<CloseStatus>> onClose = new ArrayList<>();

    /** Under this object's lock: a write, recorded by {@code record}, or a failed stage once the stream ended. */
    final synchronized CompletionStage<Void> recordWrite(Runnable record) {
        if (closed.isDone()) {
            return CompletableFuture.failedFuture(new IllegalStateException("stream " + id + " is closed"));
        }
        record.run();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public boolean isOpen() {
        return !closed.isDone();
    }

    @Override
    public void close() {
        close(CloseReason.COMPLETED, "closed by the application");
    }

    @Override
    public void close(CloseReason reason, String detail) {
        end(new CloseStatus(reason, detail));
    }

    @Override
    public void abort(CloseReason reason, String detail) {
        end(new CloseStatus(reason, detail));
    }

    private void end(CloseStatus status) {
        List<Consumer<CloseStatus>> callbacks;
        synchronized (this) {
            if (!closed.complete(status)) {
                return;
            }
            callbacks = List.copyOf(onClose);
        }
        callbacks.forEach(c -> c.accept(status));
    }

    @Override
    public Optional<CloseStatus> closeStatus() {
        return Optional.ofNullable(closed.getNow(null));
    }

    @Override
    public CompletionStage<CloseStatus> whenClosed() {
        return closed.copy();
    }

    @Override
    public void onClose(Consumer<CloseStatus> callback) {
        synchronized (this) {
            if (!closed.isDone()) {
                onClose.add(callback);
                return;
            }
        }
        callback.accept(closed.join());
    }

    @Override
    public long queuedBytes() {
        return 0;
    }
}
