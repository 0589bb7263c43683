package dev.handoff.readme.spring;

import dev.handoff.core.ByteStream;
import dev.handoff.spring.EventStream;
import dev.handoff.spring.HandoffStreams;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@SpringBootApplication
@RestController
public class QuickStart {

    /** What a progress event carries: sent as JSON, through your application's ObjectMapper. */
    record Progress(String task, int percent) {
    }

    private final HandoffStreams streams;

    QuickStart(HandoffStreams streams) {
        this.streams = streams;
    }

    public static void main(String[] args) {
        SpringApplication.run(QuickStart.class, args);
    }

    /** Subscribes to a topic: Last-Event-ID replay, limits and heartbeats included. */
    @GetMapping(path = "/tasks/{id}/progress", produces = "text/event-stream")
    EventStream progress(@PathVariable String id) {
        return streams.subscribe("tasks/" + id);
    }

    /** Publishes to the topic; from anywhere, any thread: encoded once, returns at once. */
    @PostMapping("/tasks/{id}/progress")
    Map<String, Object> report(@PathVariable String id, @RequestParam int percent) {
        streams.publish("tasks/" + id, "progress", new Progress(id, percent));
        return Map.of("task", id, "percent", percent);
    }

    /** A stream you feed yourself; partial mode: the headers you set are sent. */
    @GetMapping("/tasks/{id}/log")
    EventStream log(@PathVariable String id, HttpServletResponse response) {
        response.setHeader("X-Task", id);
        EventStream events = streams.sse();
        events.send("started", new Progress(id, 0)); // kept (bounded), then sent first once the stream opens
        events.send("line", "hello from task " + id); // any thread may send, now or later
        events.close();                                // or keep it open as long as you like
        return events;
    }

    /** Raw chunked bytes. */
    @GetMapping("/tasks.ndjson")
    ByteStream rows() {
        ByteStream rows = streams.stream("application/x-ndjson");
        rows.write("{\"task\":\"a\",\"percent\":100}\n");
        rows.close();
        return rows;
    }
}
