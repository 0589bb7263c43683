package dev.handoff.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.registry.StreamRegistry;
import dev.handoff.spring.app.StreamingApplication;
import dev.handoff.spring.test.SseRecorders;
import dev.handoff.test.SseRecorder;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * What Spring's {@code http.server.requests} records for a stream, on the embedded server of this Maven execution
 * (Boot 3.5 here, Boot 4.1 in the starter's Boot 4 leg): the handoff (the time to open the stream, tagged
 * {@code handoff=stream}), not the stream's life, and no active request while the stream is open.
 */
@SpringBootTest(classes = StreamingApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"server.address=127.0.0.1", "handoff.scheduler.tick=50ms", "handoff.heartbeat=200ms", "logging.level.org.springframework=warn"})
class RequestMetricsServerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration HELD = Duration.ofMillis(1500);

    @Autowired
    MeterRegistry meters;
    @Autowired
    SseRecorders recorders;
    @Autowired
    StreamRegistry registry;

    @Test
    void aStreamIsRecordedAsItsHandoffNotItsLife() throws Exception {
        long opened = System.nanoTime();
        try (SseRecorder stream = recorders.open("/tasks/metrics/progress")) {
            stream.assertStatus(200);
            Awaitility.await().atMost(WAIT).until(() -> registry.subscribers("tasks/metrics") == 1);
            // Recorded as soon as the handoff returned, while the stream is open: one request, and none active.
            Timer handoff = Awaitility.await().atMost(WAIT).until(() -> meters.find("http.server.requests")
                    .tag("uri", "/tasks/{id}/progress").timer(), t -> t != null && t.count() == 1);
            assertThat(handoff.getId().getTag("handoff")).isEqualTo("stream");
            assertThat(handoff.getId().getTag("status")).isEqualTo("200");
            LongTaskTimer active = meters.find("http.server.requests.active").tag("uri", "/tasks/{id}/progress")
                    .longTaskTimer();
            assertThat(active == null ? 0 : active.activeTasks()).as("active requests while the stream is open")
                    .isZero();
            registry.publish("tasks/metrics", "still streaming");
            stream.assertData("still streaming");
            stream.assertNoEvent(HELD); // The stream lives on for a while...
        }
        Awaitility.await().atMost(WAIT).until(() -> registry.subscribers("tasks/metrics") == 0);
        double lived = (System.nanoTime() - opened) / 1e9;
        // ...and ends: its life is not recorded as a second request, nor as a long one.
        Timer handoff = meters.get("http.server.requests").tag("uri", "/tasks/{id}/progress").timer();
        assertThat(handoff.count()).isEqualTo(1);
        assertThat(handoff.max(TimeUnit.SECONDS)).as("the recorded time, against the stream's life of %.1f s", lived)
                .isLessThan(HELD.toMillis() / 1000.0);
    }

    @Test
    void anOrdinaryRequestIsTaggedNone() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(recorders.uri("/hello")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("ok");
        Timer hello = Awaitility.await().atMost(WAIT).until(() -> meters.find("http.server.requests").tag("uri", "/hello")
                .timer(), t -> t != null && t.count() >= 1);
        assertThat(hello.getId().getTag("handoff")).isEqualTo("none");
    }
}
