package dev.handoff.sample;

import dev.handoff.registry.RegistryStats;
import dev.handoff.spring.HandoffStreams;
import jakarta.servlet.http.HttpServletRequest;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
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
    Map<String, Object> status(HttpServletRequest request) {
        RegistryStats stats = streams.registry().stats();
        // Names and states only (stack depth 0): this runs every second for every open page.
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long busy = Arrays.stream(mx.getThreadInfo(mx.getAllThreadIds(), 0)).filter(Objects::nonNull)
                .filter(t -> t.getThreadName().contains("-exec-") || t.getThreadName().startsWith("qtp"))
                .filter(t -> t.getThreadState() == Thread.State.RUNNABLE).count();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("openStreams", stats.openStreams());
        out.put("requestThreadsBusy", busy);
        out.put("liveThreads", mx.getThreadCount());
        out.put("eventsPublished", stats.eventsPublished());
        out.put("eventsDelivered", stats.eventsDelivered());
        // Which instance answered: with two of them (sample-app/run-two-instances), the page says which it is on.
        out.put("port", request.getLocalPort());
        streams.registry().clusterStats().ifPresent(c -> out.put("cluster", c.connected() ? "connected" : "disconnected"));
        return out;
    }
}
