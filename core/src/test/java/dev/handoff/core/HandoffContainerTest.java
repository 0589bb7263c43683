package dev.handoff.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.LogWatch;
import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.StreamClient.Conn;
import dev.handoff.core.support.StreamClient.Head;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The handoff itself, partial and full mode and each refusal, on the container of this test run. */
@ExtendWith(LogWatch.class)
class HandoffContainerTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private static final BlockingQueue<StreamHandle> opened = new LinkedBlockingQueue<>();
    private static final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    private static TestServer server;
    private static StreamClient client;

    @BeforeAll
    static void start() throws Exception {
        TestApp app = new TestApp()
                .route("/sse", (req, resp) -> {
                    resp.setHeader("X-Partial", "kept");
                    SseStream sse = Handoff.from(req).sse();
                    opened.add(sse);
                    if (sse.isOpen()) { // A HEAD request's stream has ended already.
                        sse.send(SseEvent.builder().id("1").event("greeting").data("hello\nworld").build());
                    }
                })
                .route("/full", (req, resp) -> {
                    ByteStream rows = Handoff.from(req).respond(201).header("X-Mode", "full")
                            .contentType("application/x-ndjson").stream();
                    opened.add(rows);
                    rows.write("{\"n\":1}\n");
                    rows.write("{\"n\":2}\n".getBytes(StandardCharsets.UTF_8));
                    rows.close();
                })
                .route("/twice", (req, resp) -> {
                    Handoff handoff = Handoff.from(req);
                    SseStream sse = handoff.sse();
                    try {
                        handoff.sse();
                        sse.send("no error");
                    } catch (IllegalStateException e) {
                        sse.send(e.getMessage());
                    }
                    sse.close();
                })
                .route("/committed", (req, resp) -> {
                    resp.getOutputStream().write("started\n".getBytes(StandardCharsets.UTF_8));
                    resp.flushBuffer();
                    try {
                        Handoff.from(req).sse();
                    } catch (IllegalStateException e) {
                        resp.getOutputStream().write((e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
                    }
                })
                .route("/no-content", (req, resp) -> {
                    resp.setStatus(HttpServletResponse.SC_NO_CONTENT);
                    try {
                        Handoff.from(req).sse();
                    } catch (IllegalStateException e) {
                        plainError(resp, e);
                    }
                })
                .blockingRoute("/blocking", (req, resp) -> {
                    try {
                        Handoff.from(req).sse();
                    } catch (IllegalStateException e) {
                        plainError(resp, e);
                    }
                })
                .bareRoute("/no-filter", (req, resp) -> {
                    resp.setHeader("X-Filter-Seen", Boolean.toString(Handoff.isAvailable(req)));
                    SseStream sse = Handoff.of(req, resp).sse();
                    opened.add(sse);
                    sse.send("without the filter");
                    sse.close();
                })
                .route("/after-close", (req, resp) -> {
                    SseStream sse = Handoff.from(req).sse();
                    opened.add(sse);
                    sse.close();
                    try {
                        sse.send("too late");
                    } catch (StreamClosedException e) {
                        messages.add(e.getMessage());
                    }
                })
                .route("/last-id", (req, resp) -> {
                    SseStream sse = Handoff.from(req).sse();
                    sse.send(sse.lastEventId().orElse("(none)"));
                    sse.close();
                });
        server = TestServer.start(app);
        client = new StreamClient(server.port());
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        server.close();
    }

    @AfterEach
    void clear() {
        opened.clear();
        messages.clear();
    }

    private static void plainError(HttpServletResponse resp, Exception e) throws java.io.IOException {
        resp.setStatus(500);
        resp.setContentType("text/plain;charset=UTF-8");
        resp.getOutputStream().write((e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static StreamHandle nextOpened() throws InterruptedException {
        StreamHandle h = opened.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(h).as("a handler opened a stream").isNotNull();
        return h;
    }

    private static CloseStatus closeOf(StreamHandle h) throws Exception {
        return h.whenClosed().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void partialModeCommitsTheHandlersHeadersAndStreamsFromAnyThread() throws Exception {
        Conn conn = client.get("/sse");
        Head head = conn.head.get(10, TimeUnit.SECONDS);
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Content-Type")).startsWith("text/event-stream");
        assertThat(head.header("X-Partial")).isEqualTo("kept");
        assertThat(head.header("Cache-Control")).isEqualTo("no-cache");
        assertThat(head.header("Transfer-Encoding")).isEqualTo("chunked");
        assertThat(conn.awaitEvents(1, WAIT)).containsExactly(new Event("greeting", "hello\nworld", "1"));

        SseStream sse = (SseStream) nextOpened();
        Thread other = new Thread(() -> sse.send("from another thread"));
        other.start();
        other.join(10_000);
        assertThat(conn.awaitEvents(2, WAIT).get(1).data()).isEqualTo("from another thread");
        sse.close();
        assertThat(conn.ended.get(10, TimeUnit.SECONDS)).isEqualTo("complete");
        assertThat(closeOf(sse).reason()).isEqualTo(CloseReason.COMPLETED);
    }

    @Test
    void fullModeCommitsTheDeclaredStatusAndHeadersOnce() throws Exception {
        Conn conn = client.get("/full");
        Head head = conn.head.get(10, TimeUnit.SECONDS);
        assertThat(head.status()).isEqualTo(201);
        assertThat(head.header("X-Mode")).isEqualTo("full");
        assertThat(head.header("Content-Type")).isEqualTo("application/x-ndjson");
        assertThat(conn.ended.get(10, TimeUnit.SECONDS)).isEqualTo("complete");
        assertThat(conn.body()).isEqualTo("{\"n\":1}\n{\"n\":2}\n");
        assertThat(closeOf(nextOpened()).reason()).isEqualTo(CloseReason.COMPLETED);
    }

    @Test
    void headRequestGetsTheHeadersAndTheStreamEndsAtOnce() throws Exception {
        Conn conn = client.request("HEAD", "/sse", 0, true);
        Head head = conn.head.get(10, TimeUnit.SECONDS);
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Content-Type")).startsWith("text/event-stream");
        StreamHandle h = nextOpened();
        assertThat(closeOf(h).reason()).isEqualTo(CloseReason.HEAD_REQUEST);
        assertThat(h.isOpen()).isFalse();
    }

    @Test
    void handingOffTwiceIsRefused() throws Exception {
        Conn conn = client.get("/twice");
        assertThat(conn.awaitEvents(1, WAIT).get(0).data()).contains("already handed off");
    }

    @Test
    void handingOffACommittedResponseIsRefused() throws Exception {
        Conn conn = client.get("/committed");
        conn.ended.get(10, TimeUnit.SECONDS);
        assertThat(conn.body()).contains("started").contains("already committed");
    }

    @Test
    void aStatusThatForbidsABodyIsRefused() throws Exception {
        Conn conn = client.get("/no-content");
        assertThat(conn.head.get(10, TimeUnit.SECONDS).status()).isEqualTo(500);
        conn.ended.get(10, TimeUnit.SECONDS);
        assertThat(conn.body()).contains("status 204 forbids a response body");
    }

    @Test
    void aChainWithoutAsyncSupportIsRefusedWithTheContainersCulprit() throws Exception {
        // Tomcat logs its refusal of startAsync with a trace; Jetty does not.
        LogWatch.expect("Unable to start async because the following classes in the processing chain do not "
                + "support async");
        Conn conn = client.get("/blocking");
        assertThat(conn.head.get(10, TimeUnit.SECONDS).status()).isEqualTo(500);
        conn.ended.get(10, TimeUnit.SECONDS);
        assertThat(conn.body()).contains("does not support async processing")
                .contains("asyncSupported")
                .containsIgnoringCase("blocking");
    }

    @Test
    void theStaticEntryWorksWithoutTheFilter() throws Exception {
        Conn conn = client.get("/no-filter");
        assertThat(conn.head.get(10, TimeUnit.SECONDS).header("X-Filter-Seen")).isEqualTo("false");
        assertThat(conn.awaitEvents(1, WAIT).get(0).data()).isEqualTo("without the filter");
        assertThat(conn.ended.get(10, TimeUnit.SECONDS)).isEqualTo("complete");
    }

    @Test
    void writingAfterCloseFailsNamingTheReason() throws Exception {
        client.get("/after-close");
        StreamHandle sse = nextOpened();
        String message = messages.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(message).isEqualTo("stream " + sse.id() + " already closed: COMPLETED (closed by the application)");
    }

    @Test
    void lastEventIdIsGivenToTheHandlerDecodedAsUtf8() throws Exception {
        Conn plain = client.get("/last-id", "Last-Event-ID: 41");
        assertThat(plain.awaitEvents(1, WAIT).get(0).data()).isEqualTo("41");
        String utf8AsLatin1 = new String("ид-7".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        Conn unicode = client.get("/last-id", "Last-Event-ID: " + utf8AsLatin1);
        assertThat(unicode.awaitEvents(1, WAIT).get(0).data()).isEqualTo("ид-7");
        Conn none = client.get("/last-id");
        assertThat(none.awaitEvents(1, WAIT).get(0).data()).isEqualTo("(none)");
    }

    @Test
    void aMalformedLastEventIdIsRefusedWith400BeforeAnythingIsCommitted() throws Exception {
        Conn tooLong = client.get("/last-id", "Last-Event-ID: " + "x".repeat(300));
        assertThat(tooLong.head.get(10, TimeUnit.SECONDS).status()).isEqualTo(400);
        tooLong.ended.get(10, TimeUnit.SECONDS);
        assertThat(tooLong.body()).contains("Last-Event-ID header is longer than 256 characters");

        // A tab is legal in an HTTP header value, so the container passes it on; in an id it is not.
        Conn control = client.get("/last-id", "Last-Event-ID: a\tb");
        assertThat(control.head.get(10, TimeUnit.SECONDS).status()).isEqualTo(400);
        control.ended.get(10, TimeUnit.SECONDS);
        assertThat(control.body()).contains("control character U+0009");

        String badUtf8 = new String(new byte[] {'a', (byte) 0xC3, 'b'}, StandardCharsets.ISO_8859_1);
        Conn invalid = client.get("/last-id", "Last-Event-ID: " + badUtf8);
        assertThat(invalid.head.get(10, TimeUnit.SECONDS).status()).isEqualTo(400);
        invalid.ended.get(10, TimeUnit.SECONDS);
        assertThat(invalid.body()).contains("not valid UTF-8");
    }
}
