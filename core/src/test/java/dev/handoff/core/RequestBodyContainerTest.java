package dev.handoff.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.LogWatch;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Request bodies read as they arrive, on a real container: to a file, as lines, with limits, beside a stream. */
@ExtendWith(LogWatch.class)
class RequestBodyContainerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int MAX = 8 << 20;
    private static final int SMALL_MAX = 64 * 1024;
    /** The container's own idle time-out; Handoff's body idle time-out is longer on /patient, shorter on /small. */
    private static final Duration CONTAINER_IDLE = Duration.ofSeconds(2);

    @TempDir
    static Path uploads;
    private static StreamScheduler scheduler;
    private static TestServer server;
    private static final AtomicLong names = new AtomicLong();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();

    @BeforeAll
    static void start() throws Exception {
        scheduler = StreamScheduler.create(2, Duration.ofMillis(25));
        TestApp app = new TestApp()
                .filterOptions(StreamOptions.defaults().withScheduler(scheduler))
                .containerIdleTimeout(CONTAINER_IDLE)
                .route("/upload", (req, resp) -> {
                    Handoff handoff = Handoff.from(req);
                    Path file = uploads.resolve("upload-" + names.incrementAndGet());
                    handoff.body(MAX).toFile(file).thenAccept(bytes -> answer(handoff, 200, "stored " + bytes
                            + " bytes sha256=" + sha256(file)));
                })
                .route("/small", (req, resp) -> {
                    Handoff handoff = Handoff.from(req);
                    handoff.body(SMALL_MAX, Duration.ofMillis(300)).toFile(uploads.resolve("small"))
                            .thenAccept(bytes -> answer(handoff, 200, "stored " + bytes));
                })
                .route("/patient", (req, resp) -> {
                    Handoff handoff = Handoff.from(req);
                    handoff.body(MAX, Duration.ofMinutes(1)).toFile(uploads.resolve("patient-" + names.incrementAndGet()))
                            .thenAccept(bytes -> answer(handoff, 200, "stored " + bytes));
                })
                .route("/trickle", (req, resp) -> {
                    Handoff handoff = Handoff.from(req).options(o -> o.withMinBodyRate(1000, Duration.ofMillis(500)));
                    handoff.body(MAX).toFile(uploads.resolve("trickle-" + names.incrementAndGet()))
                            .thenAccept(bytes -> answer(handoff, 200, "stored " + bytes));
                })
                .route("/ndjson", (req, resp) -> {
                    Handoff handoff = Handoff.from(req);
                    StringBuilder kinds = new StringBuilder();
                    handoff.body(MAX).lines(32, line -> kinds.append(line.length()).append(' '))
                            .thenAccept(n -> answer(handoff, 200, n + " records: " + kinds.toString().trim()));
                })
                .route("/progress", (req, resp) -> {
                    Handoff handoff = Handoff.from(req);
                    RequestBody body = handoff.body(MAX);
                    SseStream progress = handoff.sse();
                    body.subscribe(new ProgressReporter(progress));
                });
        server = TestServer.start(app);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        scheduler.close();
    }

    /** Answers a request whose body was read, from whatever thread finished reading it. */
    private static void answer(Handoff handoff, int status, String text) {
        ByteStream out = handoff.respond(status).contentType("text/plain;charset=UTF-8").stream();
        out.write(text);
        out.close();
    }

    private static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static byte[] random(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }

    private HttpResponse<String> post(String path, HttpRequest.BodyPublisher body) throws Exception {
        return http.send(HttpRequest.newBuilder(server.uri(path)).timeout(WAIT).POST(body).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anUploadIsWrittenToAFileWithoutBlockingAThreadWithFixedLengthOrChunked() throws Exception {
        byte[] content = random(5 << 20);
        HttpResponse<String> fixed = post("/upload", HttpRequest.BodyPublishers.ofByteArray(content));
        assertThat(fixed.statusCode()).isEqualTo(200);
        assertThat(fixed.body()).isEqualTo("stored " + content.length + " bytes sha256=" + sha256(content));

        HttpResponse<String> chunked = post("/upload",
                HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(content)));
        assertThat(chunked.statusCode()).isEqualTo(200);
        assertThat(chunked.body()).isEqualTo("stored " + content.length + " bytes sha256=" + sha256(content));
    }

    @Test
    void ndjsonIsReadOneRecordAtATimeAndALineOverItsLimitIsRefused() throws Exception {
        HttpResponse<String> ok = post("/ndjson",
                HttpRequest.BodyPublishers.ofString("{\"a\":1}\n{\"bb\":22}\r\n{\"c\":3}"));
        assertThat(ok.body()).isEqualTo("3 records: 7 9 7");

        try (RawClient raw = new RawClient()) {
            String tooLong = "{\"x\":\"" + "y".repeat(40) + "\"}\n";
            raw.send("POST /ndjson HTTP/1.1\r\nHost: x\r\nContent-Length: " + tooLong.length() + "\r\n\r\n" + tooLong);
            String response = raw.readResponse();
            assertThat(response).startsWith("HTTP/1.1 413").contains("line 1 of the request body is longer than the "
                    + "limit of 32 bytes");
        }
    }

    @Test
    void aDeclaredLengthOverTheLimitIsRefused413BeforeAnythingIsRead() throws Exception {
        try (RawClient raw = new RawClient()) {
            raw.send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: " + (SMALL_MAX + 1) + "\r\n\r\n");
            String response = raw.readResponse();
            assertThat(response).startsWith("HTTP/1.1 413").containsIgnoringCase("connection: close")
                    .contains("request body of 65537 bytes is over this endpoint's limit of 65536 bytes");
        }
    }

    /**
     * Clients that declare a body over the limit and never send it hold no request thread: Tomcat would read what
     * they declared (up to its maxSwallowSize) on the request thread until its connection time-out (here 30 s).
     * The server closes their connections once the refused body has had its time (10 s).
     */
    @Test
    void refusedBodiesThatNeverComeHoldNoRequestThread() throws Exception {
        assertAnsweredHoldingNoThread("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
                "HTTP/1.1 413");
    }

    /**
     * Clients that send part of their body and stop are answered 408 after the body's idle time-out, and hold no
     * container thread afterwards for the rest of what they declared: the body was being read by a listener, so
     * the container's own discard of the rest does not block.
     */
    @Test
    void stalledBodiesAnswered408HoldNoContainerThread() throws Exception {
        assertAnsweredHoldingNoThread("POST /stalls HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789",
                "HTTP/1.1 408");
    }

    /**
     * More clients than the container has threads send {@code request} at once, each is answered {@code status},
     * and an ordinary request is answered too, all within 5 s on a server whose own time-out is 30 s: a container
     * that held a thread per client would not get to the ninth before the first came free. Then the server
     * closes every one of their connections.
     */
    private void assertAnsweredHoldingNoThread(String request, String status) throws Exception {
        try (TestServer patient = patientServer()) {
            List<RawClient> clients = new ArrayList<>();
            try {
                long start = System.nanoTime();
                for (int i = 0; i < TestServer.THREADS + 2; i++) {
                    RawClient raw = new RawClient(patient.port());
                    clients.add(raw);
                    raw.send(request);
                }
                for (RawClient raw : clients) {
                    assertThat(raw.readResponse()).startsWith(status);
                }
                HttpResponse<String> ordinary = http.send(HttpRequest.newBuilder(patient.uri("/small"))
                        .timeout(WAIT).POST(HttpRequest.BodyPublishers.ofString("fits")).build(),
                        HttpResponse.BodyHandlers.ofString());
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertThat(ordinary.body()).isEqualTo("stored 4");
                assertThat(millis).as("%d clients answered %s and an ordinary request answered (pool of %d)",
                        clients.size(), status, TestServer.THREADS).isLessThan(5_000);
                for (RawClient raw : clients) {
                    raw.readToEnd(); // The server closes it; a read time-out (30 s) fails the test.
                }
            } finally {
                for (RawClient raw : clients) {
                    raw.close();
                }
            }
        }
    }

    /** A client that sends the body it declared gets its 413 whole, and the connection ends cleanly after it. */
    @Test
    void aRefusedBodyThatIsSentIsReadAwayAndTheAnswerArrives() throws Exception {
        try (RawClient raw = new RawClient()) {
            raw.send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
            raw.out.write(random(100_000));
            raw.out.flush();
            assertThat(raw.readResponse()).startsWith("HTTP/1.1 413")
                    .contains("request body of 100000 bytes is over this endpoint's limit of 65536 bytes");
            raw.readToEnd(); // Closed by the server (Connection: close), not reset.
        }
    }

    /** A body declared larger than is worth reading away: answered, and the connection closed without reading it. */
    @Test
    void aRefusedBodyTooLargeToReadAwayClosesTheConnectionAfterTheAnswer() throws Exception {
        try (RawClient raw = new RawClient()) {
            raw.send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
            assertThat(raw.readResponse()).startsWith("HTTP/1.1 413");
            raw.readToEnd();
        }
    }

    /**
     * A server of the test's own, with a container idle time-out longer than the test. Stopping a Jetty started
     * moments before may log that a reserved thread of its pool never ran: Jetty's, harmless.
     */
    private static TestServer patientServer() throws Exception {
        LogWatch.expect("QueuedThreadPool - Stopped without executing or closing .*ReservedThread");
        return TestServer.start(smallUploads(Duration.ofSeconds(30)));
    }

    private static TestApp smallUploads(Duration containerIdle) {
        return new TestApp().filterOptions(StreamOptions.defaults().withScheduler(scheduler))
                .containerIdleTimeout(containerIdle)
                .route("/small", (req, resp) -> {
                    Handoff handoff = Handoff.from(req);
                    Path file = uploads.resolve("small-" + names.incrementAndGet());
                    handoff.body(SMALL_MAX).toFile(file).thenAccept(bytes -> answer(handoff, 200, "stored " + bytes));
                })
                .route("/stalls", (req, resp) -> {
                    Handoff handoff = Handoff.from(req);
                    Path file = uploads.resolve("stalls-" + names.incrementAndGet());
                    handoff.body(SMALL_MAX, Duration.ofMillis(300)).toFile(file)
                            .thenAccept(bytes -> answer(handoff, 200, "stored " + bytes));
                });
    }

    @Test
    void aChunkedBodyThatGrowsPastTheLimitIsRefused413WhileStreaming() throws Exception {
        try (RawClient raw = new RawClient()) {
            byte[] chunk = random(SMALL_MAX + 100);
            raw.send("POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(chunk.length) + "\r\n");
            raw.out.write(chunk);
            raw.out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            raw.out.flush();
            String response = raw.readResponse();
            assertThat(response).startsWith("HTTP/1.1 413").contains("request body over this endpoint's limit of "
                    + SMALL_MAX + " bytes");
        }
    }

    @Test
    void anUploaderThatStopsSendingIsAnswered408AfterTheIdleTimeOut() throws Exception {
        try (RawClient raw = new RawClient()) {
            long start = System.nanoTime();
            raw.send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
            String response = raw.readResponse();
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(response).startsWith("HTTP/1.1 408").contains("idle time-out 300 ms");
            System.out.printf("[figures] %s: idle uploader answered 408 after %d ms (idle time-out 300 ms)%n",
                    server.name(), millis);
        }
    }

    @Test
    void aBodyTheClientCutsShortIsAnswered400AndItsConnectionClosedThoughTheAppNeverAnswers() throws Exception {
        expectJettyClosedChannelLine();
        // The app's only answer is on success: whatever it does with the error, the request must end.
        try (RawClient raw = new RawClient()) {
            raw.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
            raw.socket.shutdownOutput();
            assertAnsweredAndClosed(raw, 400, "request body");
        }
    }

    @Test
    void aChunkedBodyThatEndsEarlyIsAnswered400AndItsConnectionClosed() throws Exception {
        expectJettyClosedChannelLine();
        try (RawClient raw = new RawClient()) {
            raw.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n0123456789");
            raw.socket.shutdownOutput();
            assertAnsweredAndClosed(raw, 400, "request body");
        }
    }

    @Test
    void aChunkSizeThatOverflowsIsAnswered400AndItsConnectionClosed() throws Exception {
        expectJettyClosedChannelLine();
        try (RawClient raw = new RawClient()) {
            raw.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "fffffffffffffffff1\r\n0123456789");
            assertAnsweredAndClosed(raw, 400, "request body");
        }
    }

    @Test
    void anUploaderThatTricklesUnderTheMinimumRateIsAnswered408() throws Exception {
        expectJettyClosedChannelLine();
        try (RawClient raw = new RawClient()) {
            long start = System.nanoTime();
            raw.send("POST /trickle HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
            // A byte every 100 ms: never idle, but 10 bytes/s against a minimum of 1000 over 500 ms.
            ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
            trickle.scheduleAtFixedRate(() -> {
                try {
                    raw.send("x");
                } catch (IOException closed) {
                    trickle.shutdown(); // The server closed the connection.
                }
            }, 0, 100, TimeUnit.MILLISECONDS);
            String response;
            try {
                response = raw.readResponse();
            } finally {
                trickle.shutdownNow();
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(response).startsWith("HTTP/1.1 408").contains("under this endpoint's minimum of 1000 bytes/s");
            System.out.printf("[figures] %s: an uploader at 10 B/s answered 408 after %d ms (minimum 1000 B/s over "
                    + "500 ms)%n", server.name(), millis);
        }
    }

    @Test
    void anUploaderTheContainerTimesOutIsAnswered408AndItsConnectionClosed() throws Exception {
        expectJettyClosedChannelLine();
        try (RawClient raw = new RawClient()) {
            long start = System.nanoTime();
            raw.send("POST /patient HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
            assertAnsweredAndClosed(raw, 408, "idle time-out");
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(millis).as("ended by the container's %s idle time-out", CONTAINER_IDLE)
                    .isLessThan(Duration.ofMinutes(1).toMillis());
            System.out.printf("[figures] %s: an uploader the container timed out ended after %d ms (container idle "
                    + "time-out %d ms)%n", server.name(), millis, CONTAINER_IDLE.toMillis());
        }
    }

    /**
     * Jetty 12.1 may log one line when it closes a connection whose declared body was not read to the end:
     * the request's failure listener fires once the servlet channel is no longer waiting
     * ({@code ServletChannelState.asyncError}). Only that line, without a trace, is allowed.
     */
    private static void expectJettyClosedChannelLine() {
        LogWatch.expect("WARN org.eclipse.jetty.ee10.servlet.ServletChannelState - java.nio.channels.ClosedChannelException$");
    }

    /**
     * The request ends at once: the server answers {@code status} and closes the connection. Where Handoff
     * answers (Jetty), the body names {@code words}. Tomcat answers a failed read itself
     * ({@code InputBuffer.handleReadException} calls {@code sendError(400)}, 408 on a socket time-out), with
     * its error page, or closes the connection without an answer when the read failed on the request thread.
     */
    private static void assertAnsweredAndClosed(RawClient raw, int status, String words) throws IOException {
        String response = raw.readToEnd();
        if (server.name().startsWith("Jetty")) {
            assertThat(response).startsWith("HTTP/1.1 " + status).containsIgnoringCase(words);
        } else if (!response.isEmpty()) {
            assertThat(response).startsWith("HTTP/1.1 " + status);
        }
    }

    @Test
    void progressIsStreamedBackWhileTheBodyIsStillArriving() throws Exception {
        try (RawClient raw = new RawClient()) {
            byte[] half = random(256 * 1024);
            raw.send("POST /progress HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
            raw.chunk(half);
            // The second half is not sent until the first progress event came back.
            String first = raw.readUntil("event: progress");
            assertThat(first).startsWith("HTTP/1.1 200").containsIgnoringCase("content-type: text/event-stream");
            raw.chunk(half);
            raw.send("0\r\n\r\n");
            String rest = raw.readUntil("event: done");
            assertThat(rest).contains("data: " + 2 * half.length);
        }
    }

    @Test
    void aBodyThatBreaksOffWhileItsResponseStreamsEndsTheStreamAndItsConnection() throws Exception {
        expectJettyClosedChannelLine();
        try (RawClient raw = new RawClient()) {
            raw.send("POST /progress HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
            raw.chunk(random(128 * 1024));
            assertThat(raw.readUntil("event: progress")).startsWith("HTTP/1.1 200");
            raw.send("4000\r\n0123456789");
            raw.socket.shutdownOutput();
            // Cut, not completed: no "done", and the connection closes (a read time-out fails the test).
            assertThat(raw.readToEnd()).doesNotContain("event: done");
        }
    }

    /** Sends an SSE progress event every 64 KiB of body, then "done" with the total; reads one buffer at a time. */
    private static final class ProgressReporter implements Flow.Subscriber<ByteBuffer> {
        private final SseStream progress;
        private Flow.Subscription subscription;
        private long total;

        ProgressReporter(SseStream progress) {
            this.progress = progress;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(ByteBuffer item) {
            long before = total;
            total += item.remaining();
            if (before / 65536 != total / 65536) {
                progress.send(SseEvent.of("progress", Long.toString(total)));
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            if (progress.isOpen()) { // A body the container reports broken ends the response too.
                progress.send(SseEvent.of("error", t.getMessage()));
                progress.close();
            }
        }

        @Override
        public void onComplete() {
            progress.send(SseEvent.of("done", Long.toString(total)));
            progress.close();
        }
    }

    /** A blocking HTTP/1.1 client on one loopback socket, for requests a library would not send. */
    private final class RawClient implements AutoCloseable {
        final Socket socket = new Socket();
        final OutputStream out;
        final InputStream in;
        final ByteArrayOutputStream received = new ByteArrayOutputStream();

        RawClient() throws IOException {
            this(server.port());
        }

        RawClient(int port) throws IOException {
            socket.connect(new InetSocketAddress("127.0.0.1", port), (int) WAIT.toMillis());
            socket.setSoTimeout((int) WAIT.toMillis());
            out = socket.getOutputStream();
            in = socket.getInputStream();
        }

        void send(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        void chunk(byte[] data) throws IOException {
            out.write((Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(data);
            out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        /** Reads one response with a Content-Length: its head and body, without waiting for the connection to close. */
        String readResponse() throws IOException {
            String head = readUntil("\r\n\r\n");
            int headEnd = head.indexOf("\r\n\r\n") + 4;
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
            if (!m.find()) {
                throw new IOException("no Content-Length in " + head);
            }
            int length = Integer.parseInt(m.group(1));
            byte[] buffer = new byte[8192];
            while (received.size() < headEnd + length) {
                int n = in.read(buffer);
                if (n < 0) {
                    throw new IOException("connection closed inside the body: " + received);
                }
                received.write(buffer, 0, n);
            }
            return received.toString(StandardCharsets.ISO_8859_1);
        }

        /** Reads until the server closes the connection (within the socket's read time-out); returns all of it. */
        String readToEnd() throws IOException {
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                received.write(buffer, 0, n);
            }
            return received.toString(StandardCharsets.ISO_8859_1);
        }

        /** Reads until the text received so far contains {@code marker}; returns all of it. */
        String readUntil(String marker) throws IOException {
            byte[] buffer = new byte[8192];
            while (!received.toString(StandardCharsets.ISO_8859_1).contains(marker)) {
                int n = in.read(buffer);
                if (n < 0) {
                    throw new IOException("connection closed before '" + marker + "': " + received);
                }
                received.write(buffer, 0, n);
            }
            return received.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
