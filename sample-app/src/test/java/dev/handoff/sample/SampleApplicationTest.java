package dev.handoff.sample;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.spring.test.SseRecorders;
import dev.handoff.test.RecordedEvent;
import dev.handoff.test.SseRecorder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;

/**
 * The sample as a user meets it: the page is served, an upload and the proxy stream their progress, a chat message
 * reaches every tab and survives a restart (the task's steps, on a manual clock: StreamsWithTheKitTest).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"server.address=127.0.0.1", "sample.task.step=20ms",
            "sample.chat.history=target/chat-history-test.log"})
class SampleApplicationTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    Environment environment;
    @Autowired
    SseRecorders sse;

    private final HttpClient http = HttpClient.newHttpClient();

    private int port() {
        return Integer.parseInt(environment.getProperty("local.server.port"));
    }

    private HttpResponse<String> send(String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path)).timeout(WAIT);
        b = json == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aTabThatReconnectsAfterARestartIsCaughtUpFromTheKeptHistory() throws Exception {
        java.nio.file.Path history = java.nio.file.Files.createTempFile("chat", ".log");
        String[] args = {"--server.port=0", "--server.address=127.0.0.1", "--sample.chat.history=" + history,
            "--logging.level.root=warn"};
        String seenId;
        try (var before = org.springframework.boot.SpringApplication.run(SampleApplication.class, args)) {
            int port = Integer.parseInt(before.getEnvironment().getProperty("local.server.port"));
            seenId = post(port, "{\"name\":\"ada\",\"text\":\"seen before the restart\"}");
            post(port, "{\"name\":\"ada\",\"text\":\"missed during the restart\"}");
        }
        try (var after = org.springframework.boot.SpringApplication.run(SampleApplication.class, args);
                SseRecorder tab = SseRecorder.open(URI.create("http://127.0.0.1:"
                        + after.getEnvironment().getProperty("local.server.port") + "/api/chat/events"),
                        Map.of("Last-Event-ID", seenId))) {
            tab.assertEvent(e -> e.event().equals("message") && e.data().contains("missed during the restart"),
                    "the message missed during the restart");
        } finally {
            java.nio.file.Files.deleteIfExists(history);
        }
    }

    private String post(int port, String json) throws Exception {
        String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/chat"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return body.replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
    }

    @Test
    void thePageIsServed() throws Exception {
        HttpResponse<String> page = send("GET", "/", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<h1>Handoff <span>sample</span></h1>", "src=\"app.js\"");
        HttpResponse<String> script = send("GET", "/app.js", null);
        assertThat(script.statusCode()).isEqualTo(200);
        // Relative URLs only: the page works under a context path (a WAR) as at the root.
        assertThat(script.body()).contains("new EventSource('api/chat/events')").doesNotContain("('/api", "`/api");
    }

    @Test
    void anUploadsProgressIsStreamedWhileItArrivesAndItIsAnsweredWhenComplete() throws Exception {
        try (SseRecorder progress = sse.open("/api/uploads/u1/progress").assertStatus(200)) {
            byte[] body = new byte[3 << 20];
            HttpResponse<String> done = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port()
                    + "/api/uploads/u1")).timeout(WAIT).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(done.body()).isEqualTo("{\"upload\":\"u1\",\"received\":" + body.length + "}");
            progress.awaitEnd(WAIT);
            List<RecordedEvent> events = progress.events();
            assertThat(events).filteredOn(e -> e.event().equals("progress")).hasSize(12);
            assertThat(events.get(events.size() - 1).data())
                    .isEqualTo("{\"upload\":\"u1\",\"received\":" + body.length + ",\"done\":true}");
        }
    }

    @Test
    void aSlowBackendStreamComesThroughTheProxyTickByTick() {
        try (SseRecorder ticks = sse.open("/api/proxied/ticks").assertStatus(200)) {
            assertThat(ticks.header("X-Proxied-By")).isEqualTo("handoff");
            ticks.assertEvent("tick", "tick 1 of 10");
            ticks.awaitEnd(WAIT);
            assertThat(ticks.events()).hasSize(10);
        }
    }

    @Test
    void aChatMessageReachesEveryOpenTabAndABadOneIsRefused() throws Exception {
        try (SseRecorder first = sse.open("/api/chat/events").assertStatus(200);
                SseRecorder second = sse.open("/api/chat/events").assertStatus(200)) {
            assertThat(send("POST", "/api/chat", "{\"name\":\"ada\",\"text\":\"hello\"}").statusCode()).isEqualTo(200);
            for (SseRecorder tab : List.of(first, second)) {
                RecordedEvent message = tab.assertEvent(e -> e.event().equals("message"), "a chat message");
                assertThat(message.data()).startsWith("{\"name\":\"ada\",\"text\":\"hello\",\"at\":\"");
            }
            HttpResponse<String> bad = send("POST", "/api/chat", "{\"name\":\"\",\"text\":\"x\"}");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains("a message needs a name and a text");
            String status = send("GET", "/api/status", null).body();
            assertThat(status).containsPattern("\"openStreams\":([2-9]|\\d{2,})");
        }
    }
}
