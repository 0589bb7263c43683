package dev.handoff.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.LogWatch;
import dev.handoff.core.support.Opened;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.StreamClient.Conn;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An aborted stream must not look like a finished one: the connection is cut instead of the body being
 * completed, on Jetty through {@code sendError(-1)} and on Tomcat, which refuses that on a committed
 * response, through its own {@code CLOSE_NOW} action.
 */
@ExtendWith(LogWatch.class)
class AbortContainerTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void anAbortedStreamCutsTheConnectionWhereTheContainerCanAndAGracefulCloseFinishesTheBody() throws Exception {
        LogWatch.expect("ended: ERROR \\(the backend failed mid-body\\)");
        BlockingQueue<SseStream> opened = new LinkedBlockingQueue<>();
        TestApp app = new TestApp().route("/sse", (req, resp) -> opened.add(Handoff.from(req).sse()));
        try (TestServer server = TestServer.start(app); StreamClient client = new StreamClient(server.port())) {
            // One at a time, so that each client connection is known to belong to its stream.
            Conn aborted = client.get("/sse");
            SseStream toAbort = opened.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            Conn closed = client.get("/sse");
            SseStream toClose = opened.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            toAbort.send("partial");
            toClose.send("whole");
            aborted.awaitEvents(1, WAIT);
            closed.awaitEvents(1, WAIT);
            toAbort.abort(CloseReason.ERROR, "the backend failed mid-body");
            toClose.close();
            String abortedEnd = aborted.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(closed.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
            assertThat(abortedEnd).isEqualTo("closed");
            System.out.printf("[figures] %s: an aborted stream ends the client's body as '%s'%n", server.name(),
                    abortedEnd);
        }
    }

    @Test
    void streamsOpenedAfterManyAbortsAreUntouchedByThem() throws Exception {
        BlockingQueue<SseStream> opened = new LinkedBlockingQueue<>();
        TestApp app = new TestApp().route("/sse", (req, resp) -> opened.add(Handoff.from(req).sse()));
        try (TestServer server = TestServer.start(app); StreamClient client = new StreamClient(server.port())) {
            for (int round = 0; round < 3; round++) {
                List<Conn> conns = client.openAll("/sse", 500, 100, WAIT);
                List<SseStream> streams = Opened.take(opened, conns.size(), WAIT);
                streams.forEach(s -> s.send("before"));
                for (Conn c : conns) {
                    c.awaitEventCount(1, WAIT);
                }
                streams.forEach(s -> s.abort(CloseReason.SHUTDOWN, "round over"));
                // At once, while the container is still cutting the aborted connections.
                List<Conn> fresh = client.openAll("/sse", 20, 20, WAIT);
                List<SseStream> freshStreams = Opened.take(opened, fresh.size(), WAIT);
                freshStreams.forEach(s -> s.send("after"));
                for (Conn c : fresh) {
                    c.awaitEventCount(1, WAIT);
                }
                assertThat(freshStreams).allMatch(StreamHandle::isOpen);
                assertThat(fresh).allMatch(c -> !c.ended.isDone());
                for (Conn c : conns) {
                    assertThat(c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("closed");
                }
                freshStreams.forEach(s -> s.abort(CloseReason.SHUTDOWN, "round over"));
            }
        }
    }
}
