package dev.handoff.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Application code that writes to a stream, tested with no server. */
class RecordingSseStreamTest {

    /** What an application might write: progress to a stream, then its end. */
    private static void reportProgress(SseStream stream, int... percents) {
        for (int p : percents) {
            stream.send(SseEvent.of("progress", Integer.toString(p)));
        }
        stream.close();
    }

    @Test
    void recordsWhatIsSentAndHowTheStreamEnded() {
        RecordingSseStream stream = new RecordingSseStream("task-7");
        List<CloseStatus> ends = new ArrayList<>();
        stream.onClose(ends::add);

        reportProgress(stream, 10, 50, 100);

        assertThat(stream.data()).containsExactly("10", "50", "100");
        assertThat(stream.events()).extracting(SseEvent::event).containsOnly("progress");
        assertThat(stream.lastEventId()).contains("task-7");
        assertThat(stream.isOpen()).isFalse();
        assertThat(ends).extracting(CloseStatus::reason).containsExactly(CloseReason.COMPLETED);
        assertThat(stream.send("late").toCompletableFuture()).isCompletedExceptionally();
        assertThat(stream.whenClosed().toCompletableFuture().join().reason()).isEqualTo(CloseReason.COMPLETED);
    }

    @Test
    void aByteStreamRecordsItsBytesAsTheyWereWritten() {
        RecordingByteStream rows = new RecordingByteStream();
        rows.write("{\"row\":1}\n");
        rows.write(java.nio.ByteBuffer.wrap("{\"row\":2}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        rows.close(CloseReason.SHUTDOWN, "done early");
        assertThat(rows.text()).isEqualTo("{\"row\":1}\n{\"row\":2}\n");
        assertThat(rows.closeStatus()).contains(new CloseStatus(CloseReason.SHUTDOWN, "done early"));
        assertThat(rows.write(new byte[1]).toCompletableFuture()).isCompletedExceptionally();
    }
}
