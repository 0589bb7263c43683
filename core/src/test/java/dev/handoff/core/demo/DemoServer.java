package dev.handoff.core.demo;

import dev.handoff.core.Handoff;
import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import dev.handoff.core.StreamClosedException;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.StreamScheduler;
import dev.handoff.core.support.JettyTestServer;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A plain servlet app (no Spring) on embedded Jetty 12: every open page gets a clock ticking once a
 * second over SSE, and the count of open streams. The request thread returns at once after each
 * handoff; one scheduler thread feeds every stream. Run it with the command in the README.
 */
public final class DemoServer {

    private static final String PAGE = """
            <!doctype html>
            <meta charset="utf-8">
            <title>Handoff demo</title>
            <style>body{font:16px system-ui;margin:3em} #clock{font-size:3em}</style>
            <h1>Handoff demo</h1>
            <p>Server time, pushed over Server-Sent Events by a handed-off connection:</p>
            <div id="clock">…</div>
            <p>Open streams on the server: <b id="open">?</b>. Open more tabs to see it change.</p>
            <script>
              const source = new EventSource('/clock');
              source.addEventListener('tick', e => {
                const t = JSON.parse(e.data);
                document.getElementById('clock').textContent = t.time;
                document.getElementById('open').textContent = t.open;
              });
            </script>
            """;

    private DemoServer() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.getInteger("port", 8080);
        Set<SseStream> clocks = ConcurrentHashMap.newKeySet();
        AtomicLong ids = new AtomicLong();
        StreamScheduler scheduler = StreamScheduler.create(1, Duration.ofSeconds(1));
        TestApp app = new TestApp()
                .filterOptions(StreamOptions.defaults().withScheduler(scheduler).withHeartbeat(Duration.ofSeconds(15)))
                .route("/clock", (req, resp) -> {
                    SseStream stream = Handoff.from(req).sse();
                    clocks.add(stream);
                    stream.onClose(status -> clocks.remove(stream));
                })
                .route("/hello", (req, resp) -> resp.getOutputStream().print("ok\n"))
                .route("/", (req, resp) -> {
                    resp.setContentType("text/html;charset=UTF-8");
                    resp.getOutputStream().write(PAGE.getBytes(StandardCharsets.UTF_8));
                });
        scheduler.executor().scheduleAtFixedRate(() -> {
            String time = LocalTime.now().truncatedTo(ChronoUnit.SECONDS).toString();
            // One encoding per tick, shared by every stream.
            SseEvent tick = SseEvent.builder().id(Long.toString(ids.incrementAndGet())).event("tick")
                    .data("{\"time\":\"" + time + "\",\"open\":" + clocks.size() + "}").build();
            for (SseStream s : clocks) {
                try {
                    s.send(tick);
                } catch (StreamClosedException gone) {
                    clocks.remove(s);
                }
            }
        }, 1, 1, TimeUnit.SECONDS);
        TestServer server = JettyTestServer.start(app, port);
        System.out.println("Handoff demo on " + server.name() + ": open http://127.0.0.1:" + server.port()
                + "/ (curl -N http://127.0.0.1:" + server.port() + "/clock for the raw stream). Ctrl-C stops it.");
        Thread.currentThread().join();
    }
}
