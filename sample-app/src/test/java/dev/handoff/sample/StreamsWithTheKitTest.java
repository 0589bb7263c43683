package dev.handoff.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.handoff.core.StreamScheduler;
import dev.handoff.spring.test.SseRecorders;
import dev.handoff.test.ManualScheduler;
import dev.handoff.test.SseRecorder;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.client.TestRestTemplate;
import org.springframework.context.annotation.Bean;

/** The sample's streams, tested with Handoff's test kit (dev.handoff:handoff-test) on a clock the test moves. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"handoff.idle-timeout=2m", "sample.chat.history=target/chat-history-kit.log"})
class StreamsWithTheKitTest {

    /** Handoff's timers (heartbeats, time-outs, replay ages; here also the sample's task steps) on a manual clock. */
    @TestConfiguration
    static class Clock {
        @Bean
        ManualScheduler time() {
            return ManualScheduler.create();
        }

        @Bean
        StreamScheduler handoffScheduler(ManualScheduler time) {
            return time.scheduler();
        }
    }

    @Autowired
    SseRecorders sse;
    @Autowired
    ManualScheduler time;
    @Autowired
    TestRestTemplate http;

    @Test
    void aTaskReportsEveryStepThenCompletesItsStream() {
        Number id = (Number) http.postForObject("/api/tasks", null, Map.class).get("id");
        try (SseRecorder progress = sse.open("/api/tasks/" + id + "/progress")) {
            progress.assertStatus(200);
            for (int percent = 0; percent <= 100; percent += 10) {
                time.advance(Duration.ofSeconds(1)); // One step of the task.
                assertEquals(percent, progress.nextEvent().field("percent"));
            }
            progress.assertEvent("done", "{\"task\":" + id + ",\"percent\":100}");
            progress.assertEnded(Duration.ofSeconds(5));
        }
    }

    @Test
    void aChatTabThatReconnectsGetsExactlyWhatItMissed() {
        SseRecorder tab = sse.open("/api/chat/events").assertStatus(200);
        http.postForObject("/api/chat", Map.of("name", "ada", "text", "first"), Map.class);
        assertEquals("first", tab.nextEvent().field("text"));
        tab.close();
        http.postForObject("/api/chat", Map.of("name", "bob", "text", "while you were away"), Map.class);
        try (SseRecorder back = tab.reconnect()) { // With Last-Event-ID: the id of "first".
            assertEquals("while you were away", back.nextEvent().field("text"));
            back.assertNoEvent(Duration.ofMillis(200));
        }
    }

    @Test
    void aQuietStreamGetsHeartbeatsAndIsClosedAfterTheIdleTimeout() {
        try (SseRecorder quiet = sse.open("/api/chat/events").assertStatus(200)) {
            time.advance(Duration.ofSeconds(16)); // The 15 s heartbeat, and its end one tick later.
            assertEquals(1, quiet.awaitComments(1, Duration.ofSeconds(5)).size());
            time.advance(Duration.ofMinutes(2));
            quiet.assertEnded(Duration.ofSeconds(5));
        }
    }
}
