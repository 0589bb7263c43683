package dev.handoff.readme.servlet;

import dev.handoff.core.Handoff;
import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import dev.handoff.core.StreamScheduler;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

@WebServlet(urlPatterns = "/events/progress", asyncSupported = true)
public class ProgressServlet extends HttpServlet {

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) {
        SseStream events = Handoff.from(request).sse();         // commits 200 + text/event-stream
        AtomicInteger percent = new AtomicInteger();
        // Stands in for your work: any thread may send, and send never blocks.
        ScheduledFuture<?> work = StreamScheduler.shared().executor().scheduleAtFixedRate(() -> {
            int p = percent.addAndGet(10);
            events.send(SseEvent.of("progress", "{\"percent\":" + p + "}"));
            if (p == 100) {
                events.close();
            }
        }, 100, 100, TimeUnit.MILLISECONDS);
        events.onClose(status -> work.cancel(false));           // runs exactly once, whatever ended the stream
    }                                                           // the container thread is free now
}
