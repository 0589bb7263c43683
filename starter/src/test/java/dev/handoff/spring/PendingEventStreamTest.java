package dev.handoff.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.QueueFullException;
import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import dev.handoff.core.StreamClosedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** A stream returned before its request is handed off: what it keeps, in what order, and how it ends. */
class PendingEventStreamTest {

    private final PendingEventStream pending = new PendingEventStream(100, data -> "json:" + data, List.of());

    @Test
    void sendsBeforeAttachingAreKeptAndGoOutFirstInOrder() {
        pending.send("a");
        pending.send("tick", Map.of("n", 1));
        pending.comment("c");
        RecordingStream real = new RecordingStream();
        pending.attach(real);
        pending.send("b");
        assertThat(real.sent).containsExactly("a", "tick json:{n=1}", ": c", "b");
        assertThat(pending.id()).isEqualTo(7);
    }

    @Test
    void keptSendsAreHandedOverOneAtATimeAsTheContainerTakesThem() {
        CompletionStage<Void> first = pending.send("a");
        pending.send("b");
        pending.close();
        RecordingStream real = new RecordingStream();
        real.takeLater = true;
        pending.attach(real);
        assertThat(real.sent).as("the next waits for the first to be taken").containsExactly("a");
        assertThat(first.toCompletableFuture()).isNotDone();
        real.takeOne();
        assertThat(first.toCompletableFuture()).isCompletedWithValue(null);
        assertThat(real.sent).containsExactly("a", "b");
        assertThat(real.closedWith).as("closed after the kept sends").isNull();
        real.takeOne();
        assertThat(real.closedWith).isEqualTo(new CloseStatus(CloseReason.COMPLETED, "closed by the application"));
    }

    @Test
    void whatIsKeptIsBoundedInBytes() {
        pending.send("x".repeat(80));
        assertThatThrownBy(() -> pending.send("y".repeat(40))).isInstanceOf(QueueFullException.class)
                .hasMessageContaining("the bound is 100");
        assertThat(pending.queuedBytes()).isEqualTo(SseEvent.of("x".repeat(80)).encodedLength());
    }

    @Test
    void aCloseBeforeAttachingIsAppliedAfterTheKeptSends() {
        pending.send("last words");
        pending.close();
        assertThat(pending.isOpen()).isFalse();
        assertThatThrownBy(() -> pending.send("more")).isInstanceOf(StreamClosedException.class);
        RecordingStream real = new RecordingStream();
        pending.attach(real);
        assertThat(real.sent).containsExactly("last words");
        assertThat(real.closedWith).isEqualTo(new CloseStatus(CloseReason.COMPLETED, "closed by the application"));
    }

    @Test
    void aHandoffThatFailsEndsTheStreamOnceAndFailsWhatWasKept() {
        CompletionStage<Void> kept = pending.send("never sent");
        List<CloseStatus> seen = new ArrayList<>();
        pending.onClose(seen::add);
        pending.fail(new IllegalStateException("refused"));
        assertThat(kept.toCompletableFuture()).isCompletedExceptionally();
        assertThat(seen).hasSize(1);
        assertThat(seen.get(0).reason()).isEqualTo(CloseReason.ERROR);
        assertThat(pending.closeStatus()).contains(seen.get(0));
        assertThat(pending.whenClosed().toCompletableFuture()).isCompletedWithValue(seen.get(0));
        pending.onClose(seen::add);
        assertThat(seen).hasSize(2);
        assertThatThrownBy(() -> pending.send("late")).isInstanceOf(StreamClosedException.class)
                .hasMessageContaining("never opened");
    }

    @Test
    void aStreamIsAttachedOnce() {
        pending.attach(new RecordingStream());
        assertThatThrownBy(() -> pending.attach(new RecordingStream())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already attached");
    }

    /** An SSE stream that records the frames sent to it. */
    private static final class RecordingStream implements SseStream {
        final List<String> sent = new ArrayList<>();
        final CompletableFuture<CloseStatus> closed = new CompletableFuture<>();
        CloseStatus closedWith;
        /** Sends complete only through {@link #takeOne()}, as a container that takes them later. */
        boolean takeLater;
        private final java.util.ArrayDeque<CompletableFuture<Void>> untaken = new java.util.ArrayDeque<>();

        void takeOne() {
            untaken.removeFirst().complete(null);
        }

        @Override
        public CompletionStage<Void> send(SseEvent event) {
            sent.add((event.event() == null ? "" : event.event() + " ") + event.data());
            if (takeLater) {
                CompletableFuture<Void> taken = new CompletableFuture<>();
                untaken.add(taken);
                return taken;
            }
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> comment(String text) {
            sent.add(": " + text);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public Optional<String> lastEventId() {
            return Optional.empty();
        }

        @Override
        public long id() {
            return 7;
        }

        @Override
        public boolean isOpen() {
            return closedWith == null;
        }

        @Override
        public void close() {
            close(CloseReason.COMPLETED, "");
        }

        @Override
        public void close(CloseReason reason, String detail) {
            closedWith = new CloseStatus(reason, detail);
            closed.complete(closedWith);
        }

        @Override
        public void abort(CloseReason reason, String detail) {
            close(reason, detail);
        }

        @Override
        public Optional<CloseStatus> closeStatus() {
            return Optional.ofNullable(closedWith);
        }

        @Override
        public CompletionStage<CloseStatus> whenClosed() {
            return closed;
        }

        @Override
        public void onClose(Consumer<CloseStatus> callback) {
            closed.thenAccept(callback);
        }

        @Override
        public long queuedBytes() {
            return 0;
        }
    }
}
