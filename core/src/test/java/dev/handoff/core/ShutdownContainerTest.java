package dev.handoff.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.LogWatch;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.StreamClient.Conn;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Stopping the web application ends its open streams; none is left open. */
@ExtendWith(LogWatch.class)
class ShutdownContainerTest {

    @Test
    void stoppingTheServerEndsEveryOpenStreamExactlyOnce() throws Exception {
        BlockingQueue<SseStream> opened = new LinkedBlockingQueue<>();
        TestApp app = new TestApp().route("/sse", (req, resp) -> opened.add(Handoff.from(req).sse()));
        TestServer server = TestServer.start(app);
        try (StreamClient client = new StreamClient(server.port())) {
            Conn a = client.get("/sse");
            Conn b = client.get("/sse");
            assertThat(a.head.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(b.head.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            SseStream first = opened.poll(10, TimeUnit.SECONDS);
            SseStream second = opened.poll(10, TimeUnit.SECONDS);
            assertThat(app.filter().openStreams()).isEqualTo(2);
            server.close();
            for (SseStream s : new SseStream[] {first, second}) {
                CloseStatus status = s.whenClosed().toCompletableFuture().get(10, TimeUnit.SECONDS);
                // The filter closes with SHUTDOWN; a container that drops connections first reports them gone.
                assertThat(status.reason()).isIn(CloseReason.SHUTDOWN, CloseReason.CLIENT_GONE);
            }
            assertThat(app.filter().openStreams()).isZero();
            System.out.printf("[figures] %s: on stop, streams ended %s and %s%n", server.name(),
                    first.closeStatus().orElseThrow(), second.closeStatus().orElseThrow());
        }
    }
}
