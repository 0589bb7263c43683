package dev.handoff.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.CloseReason;
import dev.handoff.core.Handoff;
import dev.handoff.core.SseEvent;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The controller's stream before its request is handed off: the app's encoder, kept sends, the engine's ends. */
class SpringEventStreamTest {

    private final SpringEventStream stream = new SpringEventStream(Handoff.unattachedSse(1_000),
            data -> "json:" + data, List.of("t"));

    @Test
    void objectsGoThroughTheApplicationsEncoderAndAreKeptUntilARequestTakesTheStream() {
        stream.send(Map.of("n", 1));
        stream.send("tick", Map.of("n", 2));
        stream.send("plain");
        assertThat(stream.queuedBytes()).isEqualTo(SseEvent.of("json:{n=1}").encodedLength()
                + SseEvent.of("tick", "json:{n=2}").encodedLength() + SseEvent.of("plain").encodedLength());
        assertThat(Handoff.isUnattached(stream.stream)).isTrue();
        assertThat(stream.id()).isEqualTo(stream.stream.id()).isPositive();
    }

    @Test
    void itsEndIsTheEnginesStreamsEnd() {
        stream.abort(CloseReason.ERROR, "the stream never opened: refused");
        assertThat(stream.isOpen()).isFalse();
        assertThat(stream.closeStatus()).hasValueSatisfying(s -> assertThat(s.reason()).isEqualTo(CloseReason.ERROR));
        assertThat(stream.whenClosed().toCompletableFuture()).isCompleted();
    }
}
