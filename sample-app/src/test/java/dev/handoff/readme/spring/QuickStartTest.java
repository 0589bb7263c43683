package dev.handoff.readme.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.spring.test.SseRecorders;
import dev.handoff.test.SseRecorder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/** The README's Spring Boot quick start, run as it is: each of its endpoints does what the README says. */
@SpringBootTest(classes = QuickStart.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"server.address=127.0.0.1", "logging.level.org.springframework=warn"})
class QuickStartTest {

    @Autowired
    SseRecorders sse;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aPublishedProgressEventReachesTheSubscribedStream() throws Exception {
        try (SseRecorder progress = sse.open("/tasks/7/progress").assertStatus(200)) {
            HttpResponse<String> posted = http.send(HttpRequest.newBuilder(sse.uri("/tasks/7/progress?percent=42"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(posted.statusCode()).isEqualTo(200);
            progress.assertEvent("progress", "{\"task\":\"7\",\"percent\":42}");
        }
    }

    @Test
    void aStreamFedByTheHandlerSendsItsHeaderAndEvents() {
        try (SseRecorder log = sse.open("/tasks/7/log").assertStatus(200)) {
            assertThat(log.header("X-Task")).isEqualTo("7");
            log.assertEvent("started", "{\"task\":\"7\",\"percent\":0}");
            log.assertEvent("line", "hello from task 7");
            log.assertEnded(SseRecorder.DEFAULT_WAIT);
        }
    }

    @Test
    void rowsAreStreamedAsNdjson() throws Exception {
        HttpResponse<String> rows = http.send(HttpRequest.newBuilder(sse.uri("/tasks.ndjson")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(rows.headers().firstValue("Content-Type").orElse("")).startsWith("application/x-ndjson");
        assertThat(rows.body()).isEqualTo("{\"task\":\"a\",\"percent\":100}\n");
    }
}
