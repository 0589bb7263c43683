package dev.handoff.sample;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.StreamClient.Conn;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;

/** The sample as a user meets it: the page is served, a task runs to 100%, a chat message reaches every tab. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"server.address=127.0.0.1", "sample.task.step=20ms",
            "sample.chat.history=target/chat-history-test.log"})
class SampleApplicationTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    Environment environment;

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
                StreamClient client = new StreamClient(
                        Integer.parseInt(after.getEnvironment().getProperty("local.server.port")))) {
            Conn tab = client.get("/api/chat/events", "Last-Event-ID: " + seenId);
            Event caughtUp = tab.awaitEvents(1, WAIT).get(0);
            assertThat(caughtUp.type()).isEqualTo("message");
            assertThat(caughtUp.data()).contains("missed during the restart");
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
        assertThat(page.body()).contains("<h1>Handoff sample</h1>", "new EventSource");
    }

    @Test
    void aTaskReportsProgressToOneHundredAndItsStreamCompletes() throws Exception {
        try (StreamClient client = new StreamClient(port())) {
            String started = send("POST", "/api/tasks", null).body();
            String id = started.replaceAll("\\D", "");
            Conn progress = client.get("/api/tasks/" + id + "/progress");
            assertThat(progress.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
            List<Event> events = progress.events();
            assertThat(events.get(events.size() - 1).type()).isEqualTo("done");
            assertThat(events.get(events.size() - 1).data()).isEqualTo("{\"task\":" + id + ",\"percent\":100}");
            assertThat(events).filteredOn(e -> e.type().equals("progress")).extracting(Event::data)
                    .contains("{\"task\":" + id + ",\"percent\":100}");
        }
    }

    @Test
    void anUploadsProgressIsStreamedWhileItArrivesAndItIsAnsweredWhenComplete() throws Exception {
        try (StreamClient client = new StreamClient(port())) {
            Conn progress = client.get("/api/uploads/u1/progress");
            progress.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            byte[] body = new byte[3 << 20];
            HttpResponse<String> done = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port()
                    + "/api/uploads/u1")).timeout(WAIT).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(done.body()).isEqualTo("{\"upload\":\"u1\",\"received\":" + body.length + "}");
            assertThat(progress.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
            List<Event> events = progress.events();
            assertThat(events).filteredOn(e -> e.type().equals("progress")).hasSize(12);
            assertThat(events.get(events.size() - 1).data())
                    .isEqualTo("{\"upload\":\"u1\",\"received\":" + body.length + ",\"done\":true}");
        }
    }

    @Test
    void aSlowBackendStreamComesThroughTheProxyTickByTick() throws Exception {
        try (StreamClient client = new StreamClient(port())) {
            Conn ticks = client.get("/api/proxied/ticks");
            assertThat(ticks.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).header("X-Proxied-By")).isEqualTo("handoff");
            assertThat(ticks.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
            assertThat(ticks.events()).extracting(Event::data).hasSize(10).first().isEqualTo("tick 1 of 10");
        }
    }

    @Test
    void aChatMessageReachesEveryOpenTabAndABadOneIsRefused() throws Exception {
        try (StreamClient client = new StreamClient(port())) {
            Conn first = client.get("/api/chat/events");
            Conn second = client.get("/api/chat/events");
            first.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            second.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(send("POST", "/api/chat", "{\"name\":\"ada\",\"text\":\"hello\"}").statusCode()).isEqualTo(200);
            for (Conn tab : List.of(first, second)) {
                Event e = tab.awaitEvents(1, WAIT).get(0);
                assertThat(e.type()).isEqualTo("message");
                assertThat(e.data()).isEqualTo("{\"name\":\"ada\",\"text\":\"hello\"}");
            }
            HttpResponse<String> bad = send("POST", "/api/chat", "{\"name\":\"\",\"text\":\"x\"}");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains("a message needs a name and a text");
            String status = send("GET", "/api/status", null).body();
            assertThat(status).containsPattern("\"openStreams\":([2-9]|\\d{2,})");
        }
    }
}
