package dev.handoff.sample;

import dev.handoff.core.StreamScheduler;
import dev.handoff.registry.RegistryStats;
import dev.handoff.spring.EventStream;
import dev.handoff.spring.HandoffStreams;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The page's live figures, themselves a stream: once a second, while a page listens, the {@code status} topic gets
 * how many streams are open, how many request threads are inside the application (now, and the most during the
 * last second) against the pool's size, the threads of the whole process, and the events delivered in that second.
 */
@RestController
class StatusController {

    static final String TOPIC = "status";

    private final HandoffStreams streams;
    private final StreamScheduler scheduler;
    private final RequestThreads requestThreads;
    private final int requestThreadsMax;
    private ScheduledFuture<?> ticking;
    private long lastDelivered = -1;

    StatusController(HandoffStreams streams, StreamScheduler scheduler, RequestThreads requestThreads,
            @Value("${server.tomcat.threads.max:200}") int tomcatThreads,
            @Value("${server.jetty.threads.max:200}") int jettyThreads) {
        this.streams = streams;
        this.scheduler = scheduler;
        this.requestThreads = requestThreads;
        this.requestThreadsMax = isJetty() ? jettyThreads : tomcatThreads;
    }

    private static boolean isJetty() {
        try {
            Class.forName("org.eclipse.jetty.server.Server", false, StatusController.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** The figures, once a second; the first at once. */
    @GetMapping(path = "/api/status/stream", produces = "text/event-stream")
    EventStream stream(HttpServletRequest request) {
        EventStream out = streams.subscribe(TOPIC);
        out.send("status", figures(request.getLocalPort()));
        startTicking(request.getLocalPort());
        return out;
    }

    /** The same figures, once. */
    @GetMapping("/api/status")
    Map<String, Object> status(HttpServletRequest request) {
        return figures(request.getLocalPort());
    }

    /** One tick a second while anyone listens; it stops itself when the last page has gone. */
    private synchronized void startTicking(int port) {
        if (ticking != null && !ticking.isDone()) {
            return;
        }
        ticking = scheduler.executor().scheduleAtFixedRate(() -> {
            if (streams.registry().subscribers(TOPIC) == 0) {
                stopTicking();
                return;
            }
            streams.publish(TOPIC, "status", figures(port));
        }, 1, 1, TimeUnit.SECONDS);
    }

    private synchronized void stopTicking() {
        if (ticking != null) {
            ticking.cancel(false);
        }
    }

    private synchronized Map<String, Object> figures(int port) {
        RegistryStats stats = streams.registry().stats();
        long delivered = stats.eventsDelivered();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("openStreams", stats.openStreams());
        out.put("requestThreadsBusy", requestThreads.inside());
        out.put("requestThreadsPeak", requestThreads.takePeak());
        out.put("requestThreadsMax", requestThreadsMax);
        out.put("liveThreads", ManagementFactory.getThreadMXBean().getThreadCount());
        out.put("eventsPerSecond", lastDelivered < 0 ? 0 : delivered - lastDelivered);
        out.put("eventsDelivered", delivered);
        out.put("heapUsedMb", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20);
        lastDelivered = delivered;
        // Which instance answered: with two of them (sample-app/run-two-instances), the page says which it is on.
        out.put("port", port);
        streams.registry().clusterStats().ifPresent(c -> out.put("cluster", c.connected() ? "connected" : "disconnected"));
        return out;
    }

    /**
     * Counts the container threads inside the application: a request holds one from here until its handler
     * returns (a stream's handler returns at once; the stream then needs no thread).
     */
    @Component
    static class RequestThreads implements Filter {
        private final AtomicInteger inside = new AtomicInteger();
        private final AtomicInteger peak = new AtomicInteger();

        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            peak.accumulateAndGet(inside.incrementAndGet(), Math::max);
            try {
                chain.doFilter(request, response);
            } finally {
                inside.decrementAndGet();
            }
        }

        int inside() {
            return inside.get();
        }

        /** The most at once since the last call. */
        int takePeak() {
            return peak.getAndSet(inside.get());
        }
    }
}
