package dev.handoff.spring;

import dev.handoff.core.HandoffFilter;
import dev.handoff.core.SseEvent;
import dev.handoff.registry.StreamRegistry;
import java.time.Duration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.SmartLifecycle;

/**
 * Closes the open streams when the application context closes, before the web server's graceful shutdown
 * waits for requests to finish: a long-lived stream would otherwise hold the shutdown until its time-out
 * (the well-known {@code SseEmitter} stall). Registry streams get the final event and end as
 * {@code SHUTDOWN} within the grace period; streams handed off directly through the filter end as
 * {@code SHUTDOWN} too.
 */
public final class HandoffLifecycle implements SmartLifecycle {

    /**
     * Above the web server's graceful shutdown ({@code DEFAULT_PHASE - 1024} in Spring Boot): higher phases
     * stop first, so the streams end before graceful shutdown starts waiting for requests.
     */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 512;

    private final StreamRegistry registry;
    private final FilterRegistrationBean<HandoffFilter> filter;
    private final Duration grace;
    private final SseEvent finalEvent;
    private volatile boolean running;

    HandoffLifecycle(StreamRegistry registry, FilterRegistrationBean<HandoffFilter> filter, Duration grace,
            SseEvent finalEvent) {
        this.registry = registry;
        this.filter = filter;
        this.grace = grace;
        this.finalEvent = finalEvent;
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        registry.shutdown(grace, finalEvent);
        if (filter != null) {
            filter.getFilter().destroy();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
