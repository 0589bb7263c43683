package dev.handoff.sample;

import dev.handoff.core.StreamScheduler;
import dev.handoff.proxy.ProxyHeaders;
import dev.handoff.proxy.ProxyHooks;
import dev.handoff.proxy.StreamingProxy;
import dev.handoff.spring.EventStream;
import dev.handoff.spring.HandoffStreams;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A slow backend service (here inside the same app) and a streaming proxy in front of it: the backend's
 * SSE ticks reach the browser one by one, through the proxy, with no thread held on either side.
 */
@RestController
class ProxyDemoController {

    static final int TICKS = 10;

    private final HandoffStreams streams;
    private final StreamingProxy proxy;
    private final StreamScheduler scheduler;

    ProxyDemoController(HandoffStreams streams, StreamingProxy proxy, StreamScheduler scheduler) {
        this.streams = streams;
        this.proxy = proxy;
        this.scheduler = scheduler;
    }

    /** The "backend": ten ticks, 300 ms apart, then the stream completes. */
    @GetMapping(path = "/api/backend/ticks", produces = "text/event-stream")
    EventStream ticks() {
        EventStream out = streams.sse();
        AtomicInteger n = new AtomicInteger();
        Runnable[] tick = new Runnable[1];
        tick[0] = () -> {
            int i = n.incrementAndGet();
            if (!out.isOpen()) {
                return;
            }
            out.send("tick", "tick " + i + " of " + TICKS);
            if (i < TICKS) {
                scheduler.executor().schedule(tick[0], 300, TimeUnit.MILLISECONDS);
            } else {
                out.close();
            }
        };
        scheduler.executor().schedule(tick[0], 300, TimeUnit.MILLISECONDS);
        return out;
    }

    /** The same stream, through the proxy. */
    @GetMapping("/api/proxied/ticks")
    void proxied(HttpServletRequest request) {
        URI backend = URI.create("http://127.0.0.1:" + request.getLocalPort() + request.getContextPath()
                + "/api/backend/ticks");
        proxy.forward(streams.handoff(), backend, new ProxyHooks() {
            @Override
            public void onHeaders(int status, ProxyHeaders headers) {
                headers.set("X-Proxied-By", "handoff");
            }
        });
    }
}
