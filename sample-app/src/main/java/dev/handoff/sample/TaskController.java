package dev.handoff.sample;

import dev.handoff.core.CloseReason;
import dev.handoff.core.StreamScheduler;
import dev.handoff.spring.EventStream;
import dev.handoff.spring.HandoffStreams;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Long tasks that report progress over SSE: a task publishes a {@code progress} event every step until 100%,
 * then {@code done}, and its stream completes. No thread waits for a task or for a client.
 */
@RestController
class TaskController {

    /** What a progress event carries (sent as JSON by the application's mapper). */
    record Progress(long task, int percent) {
    }

    private final HandoffStreams streams;
    private final StreamScheduler scheduler;
    private final Duration step;
    private final AtomicLong ids = new AtomicLong();

    TaskController(HandoffStreams streams, StreamScheduler scheduler,
            @Value("${sample.task.step:1s}") Duration step) {
        this.streams = streams;
        this.scheduler = scheduler;
        this.step = step;
    }

    /** Starts a task; its progress is at /api/tasks/{id}/progress. */
    @PostMapping("/api/tasks")
    Map<String, Long> start() {
        long id = ids.incrementAndGet();
        AtomicInteger percent = new AtomicInteger();
        String topic = "tasks/" + id;
        Runnable[] stepTask = new Runnable[1];
        stepTask[0] = () -> {
            int p = percent.getAndAdd(10);
            streams.publish(topic, "progress", new Progress(id, p));
            if (p >= 100) {
                streams.publish(topic, "done", new Progress(id, 100));
                streams.registry().closeTopic(topic, CloseReason.COMPLETED, "task " + id + " done");
            } else {
                scheduler.executor().schedule(stepTask[0], step.toNanos(), TimeUnit.NANOSECONDS);
            }
        };
        scheduler.executor().schedule(stepTask[0], step.toNanos(), TimeUnit.NANOSECONDS);
        return Map.of("id", id);
    }

    @GetMapping(path = "/api/tasks/{id}/progress", produces = "text/event-stream")
    EventStream progress(@PathVariable long id) {
        return streams.subscribe("tasks/" + id);
    }
}
