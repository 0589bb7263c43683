package dev.handoff.sample;

import dev.handoff.core.RegistryStats;
import dev.handoff.spring.HandoffStreams;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** The numbers behind the page's status line. */
@RestController
class StatusController {

    private final HandoffStreams streams;

    StatusController(HandoffStreams streams) {
        this.streams = streams;
    }

    @GetMapping("/api/status")
    Map<String, Object> status() {
        RegistryStats stats = streams.registry().stats();
        long busy = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().contains("-exec-") || t.getName().startsWith("qtp"))
                .filter(t -> t.getState() == Thread.State.RUNNABLE).count();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("openStreams", stats.openStreams());
        out.put("requestThreadsBusy", busy);
        out.put("liveThreads", Thread.activeCount());
        out.put("eventsPublished", stats.eventsPublished());
        out.put("eventsDelivered", stats.eventsDelivered());
        return out;
    }
}
