package dev.handoff.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.core.CloseReason;
import dev.handoff.core.Handoff;
import dev.handoff.core.QueueFullException;
import dev.handoff.core.SseEvent;
import dev.handoff.core.StreamClosedException;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.StreamScheduler;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A stream made before its request ({@link Handoff#unattachedSse}): what it keeps, in what order, and how it
 * ends, up to the moment a request takes it (here the engine's own steps: adopt the options, start the
 * transport, the container's first onWritePossible). Handing a real request off onto one is tested on the
 * containers through the starter's controllers.
 */
class UnattachedStreamTest {

    private static final StreamScheduler NEVER_TICKS = StreamScheduler.create(1, Duration.ofHours(1));

    private final DefaultSseStream stream = (DefaultSseStream) Handoff.unattachedSse(100);
    private final TestTransport transport = new TestTransport();

    @AfterAll
    static void stopScheduler() {
        NEVER_TICKS.close();
    }

    /** What a handoff does when it takes the stream. */
    private void takeAndOpen() {
        assertThat(stream.take()).isTrue();
        stream.connection().adopt("GET /later", StreamOptions.defaults().withScheduler(NEVER_TICKS),
                SseEncoder.HEARTBEAT_OPEN);
        stream.connection().start(transport);
        stream.connection().onWritePossible();
    }

    @Test
    void sendsBeforeARequestTakesItAreKeptAndGoOutFirstInOrder() {
        long id = stream.id();
        assertThat(Handoff.isUnattached(stream)).isTrue();
        CompletionStage<Void> first = stream.send("a");
        stream.comment("c");
        assertThat(transport.text()).isEmpty();
        assertThat(first.toCompletableFuture()).isNotDone();
        takeAndOpen();
        stream.send("b");
        assertThat(transport.text()).isEqualTo("data: a\n\n: c\ndata: b\n\n");
        assertThat(first.toCompletableFuture()).isCompleted();
        assertThat(stream.id()).as("the id is the stream's from the start").isEqualTo(id);
        assertThat(Handoff.isUnattached(stream)).isFalse();
    }

    @Test
    void whatIsKeptIsBoundedInBytesAndASendThatDoesNotFitFailsItsStageOnly() {
        stream.send("x".repeat(80));
        CompletionStage<Void> refused = stream.send("y".repeat(40));
        assertThatThrownBy(() -> refused.toCompletableFuture().get()).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(QueueFullException.class).hasMessageContaining("queue bound 100 bytes");
        assertThat(stream.isOpen()).isTrue();
        assertThat(stream.queuedBytes()).isEqualTo(SseEvent.of("x".repeat(80)).encodedLength());
    }

    @Test
    void theRequestsOptionsApplyOnceItTakesTheStream() {
        stream.send("x".repeat(80));
        takeAndOpen();
        transport.ready.set(false);
        CompletionStage<Void> larger = stream.send("y".repeat(1_000));
        stream.send("z".repeat(1_000));
        assertThat(larger.toCompletableFuture()).as("the default bound (64 KiB), not the 100 kept bytes")
                .isNotCompletedExceptionally();
        assertThat(stream.queuedBytes()).isGreaterThan(2_000);
    }

    @Test
    void aCloseBeforeARequestTakesItEndsTheResponseAfterTheKeptSends() {
        stream.send("last words");
        stream.close();
        assertThat(stream.isOpen()).isFalse();
        assertThatThrownBy(() -> stream.send("more")).isInstanceOf(StreamClosedException.class);
        takeAndOpen();
        assertThat(transport.text()).isEqualTo("data: last words\n\n");
        assertThat(transport.completes.get()).isEqualTo(1);
        assertThat(stream.closeStatus()).hasValueSatisfying(s -> assertThat(s.reason()).isEqualTo(CloseReason.COMPLETED));
    }

    @Test
    void anAbortBeforeARequestTakesItFailsWhatWasKeptAndEndsTheResponseAtOnce() {
        CompletionStage<Void> kept = stream.send("never sent");
        stream.abort(CloseReason.ERROR, "the handler failed");
        assertThat(kept.toCompletableFuture()).isCompletedExceptionally();
        assertThat(stream.whenClosed().toCompletableFuture()).isCompleted();
        takeAndOpen();
        assertThat(transport.text()).isEmpty();
        assertThat(transport.completes.get()).as("ended as soon as the transport is there").isEqualTo(1);
    }

    @Test
    void aStreamIsTakenOnce() {
        assertThat(stream.take()).isTrue();
        assertThat(stream.take()).isFalse();
        assertThat(((DefaultSseStream) Handoff.unattachedSse(1)).take()).isTrue();
        assertThat(new DefaultSseStream(new Connection("GET /now", StreamOptions.defaults(), null, null,
                System::nanoTime), null).take()).as("a stream made for its request is never unattached").isFalse();
    }
}
