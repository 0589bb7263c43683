package dev.handoff.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.SseEvent;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import dev.handoff.registry.StreamRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kit against a registry on a real container, on a manual clock: what an application's own tests of its
 * streaming endpoints would do. Run on Jetty and on Tomcat (the subclasses).
 */
abstract class SseRecorderContract {

    private static final Duration HEARTBEAT = Duration.ofSeconds(15);
    private static final Duration IDLE = Duration.ofMinutes(2);

    private ManualScheduler time;
    private StreamRegistry registry;
    private TestServer server;
    private final LinkedBlockingQueue<CloseStatus> ends = new LinkedBlockingQueue<>();

    /** Starts the container this subclass tests on. */
    abstract TestServer start(TestApp app) throws Exception;

    @BeforeEach
    void startServer() throws Exception {
        time = ManualScheduler.create();
        registry = StreamRegistry.builder().scheduler(time.scheduler()).replay(100, Duration.ofMinutes(5)).maxStreams(2)
                .streamOptions(o -> o.withHeartbeat(HEARTBEAT).withIdleTimeout(IDLE)).build();
        TestApp app = new TestApp().filterOptions(StreamOptions.defaults().withScheduler(time.scheduler()))
                .route("/sse", (req, resp) -> registry.subscribe(req, req.getParameterValues("topic"))
                        .onClose(ends::add));
        server = start(app);
    }

    @AfterEach
    void stopServer() throws Exception {
        registry.shutdown(Duration.ofSeconds(2), null);
        server.close();
        time.close();
    }

    private SseRecorder open(String topic, Map<String, String> headers) {
        return SseRecorder.open(URI.create("http://127.0.0.1:" + server.port() + "/sse?topic=" + topic), headers);
    }

    /** Opens a stream and waits for its response head: the registry subscribes it before the head goes out. */
    private SseRecorder open(String topic) {
        return open(topic, Map.of()).assertStatus(200);
    }

    @Test
    void recordsEventsWithTheirNamesIdsDataRetryAndJsonFields() {
        try (SseRecorder sse = open("t")) {
            assertThat(sse.header("Content-Type")).startsWith("text/event-stream");
            String id = registry.publish("t", SseEvent.of("progress", "{\"percent\":10,\"task\":\"a\"}"));
            registry.publish("t", SseEvent.builder().data("two\nlines").retry(Duration.ofSeconds(3)).build());

            RecordedEvent first = sse.assertEvent("progress", "{\"percent\":10,\"task\":\"a\"}", id);
            assertThatThrownBy(() -> first.field("percent")).hasMessageContaining("no JSON decoder");
            RecordedEvent second = sse.assertEvent("message", "two\nlines");
            assertThat(second.retry()).contains(Duration.ofSeconds(3));
            assertThat(sse.retry()).contains(Duration.ofSeconds(3));
        }
        try (SseRecorder sse = SseRecorder.open(URI.create("http://127.0.0.1:" + server.port() + "/sse?topic=t"), Map.of(),
                TinyJson::parse)) {
            sse.assertStatus(200);
            registry.publish("t", SseEvent.of("progress", "{\"percent\":20,\"task\":\"a\"}"));
            RecordedEvent e = sse.nextEvent();
            assertThat(e.field("percent")).isEqualTo(20L);
            assertThat(e.field("task")).isEqualTo("a");
            assertThatThrownBy(() -> e.field("missing")).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("no field 'missing'");
        }
    }

    @Test
    void failuresSayWhatArrived() {
        try (SseRecorder sse = open("t")) {
            registry.publish("t", "one");
            assertThatThrownBy(() -> sse.assertEvent("message", "two")).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("expected event 'message' data \"two\"").hasMessageContaining("data \"one\"");
            assertThatThrownBy(() -> sse.nextEvent(Duration.ofMillis(100))).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("no event").hasMessageContaining("received 1 events");
            sse.assertNoEvent(Duration.ofMillis(100));
            registry.publish("t", "three");
            assertThatThrownBy(() -> sse.assertNoEvent(Duration.ofSeconds(5))).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("data \"three\"");
        }
    }

    @Test
    void heartbeatsAndTheIdleTimeoutComeWhenTheManualClockSaysSo() throws Exception {
        try (SseRecorder sse = open("t")) {
            sse.assertNoEvent(Duration.ofMillis(50));
            assertThat(sse.comments()).isEmpty();
            time.advance(HEARTBEAT.plusSeconds(1)); // Written at 15 s; its end a tick later.
            assertThat(sse.awaitComments(1, Duration.ofSeconds(5))).hasSize(1);
            time.advance(IDLE);
            sse.assertEnded(Duration.ofSeconds(5));
            assertThat(ends.poll(5, TimeUnit.SECONDS).reason()).isEqualTo(CloseReason.IDLE_TIMEOUT);
        }
    }

    @Test
    void aReconnectWithLastEventIdGetsExactlyWhatWasMissedOrAReset() {
        SseRecorder sse = open("t");
        registry.publish("t", "e0");
        sse.assertData("e0");
        sse.close();
        registry.publish("t", "e1");
        registry.publish("t", "e2");
        try (SseRecorder back = sse.reconnect()) {
            back.assertData("e1", "e2");
            registry.publish("t", "e3");
            back.assertData("e3");
        }
        Map<String, String> unknown = new LinkedHashMap<>();
        unknown.put("Last-Event-ID", "not-an-id-of-this-registry");
        try (SseRecorder stranger = open("t", unknown)) {
            stranger.assertReset("t");
        }
    }

    @Test
    void anEventOlderThanTheReplayAgeIsNotReplayedAfterTheClockMoves() {
        SseRecorder sse = open("t");
        registry.publish("t", "seen");
        sse.assertData("seen");
        sse.close();
        registry.publish("t", "missed, then expired");
        time.advance(Duration.ofMinutes(6));
        try (SseRecorder back = sse.reconnect()) {
            back.assertReset("t");
        }
    }

    @Test
    void aRefusedStreamShowsItsStatusRetryAfterAndMessage() {
        try (SseRecorder one = open("t"); SseRecorder two = open("u"); SseRecorder three = open("v", Map.of())) {
            assertThat(three.assertRefused(503)).contains("too many streams");
            assertThat(three.header("Retry-After")).isEqualTo("5");
        }
    }

    @Test
    void aPausedRecorderIsASlowClientThatTheServerCuts() throws Exception {
        try (SseRecorder sse = open("t")) {
            sse.pause();
            String big = "x".repeat(64 * 1024);
            CloseStatus end = null;
            for (int i = 0; i < 2_000 && end == null; i++) {
                registry.publish("t", SseEvent.builder().id("e" + i).data(big).build());
                time.advance(Duration.ofSeconds(1));
                end = ends.poll(1, TimeUnit.MILLISECONDS);
            }
            assertThat(end).as("the stream cut while its client does not read").isNotNull();
            assertThat(end.reason()).isEqualTo(CloseReason.SLOW_CONSUMER);
        }
    }

    /** Enough JSON for these tests: a flat object of numbers and strings. */
    static final class TinyJson {
        private static final Pattern FIELD = Pattern.compile("\"(\\w+)\":(\"([^\"]*)\"|(-?\\d+))");

        static Map<String, ?> parse(String json) {
            if (!json.startsWith("{")) {
                throw new IllegalArgumentException("not an object: " + json);
            }
            Map<String, Object> out = new LinkedHashMap<>();
            Matcher m = FIELD.matcher(json);
            while (m.find()) {
                out.put(m.group(1), m.group(3) != null ? m.group(3) : (Object) Long.parseLong(m.group(4)));
            }
            return out;
        }
    }
}
