package dev.handoff.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.handoff.core.Handoff;
import dev.handoff.core.support.LogWatch;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.StreamClient.Conn;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The streaming proxy on a real container, in front of a real backend (the JDK's HTTP server on loopback)
 * that serves large bodies, slow SSE, echoes uploads and headers, stalls, and fails mid-body. Runs once per
 * HTTP client the proxy can sit on (the subclasses).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(LogWatch.class)
abstract class ProxyContainerTest {

    /** A proxy builder on the HTTP client under test. */
    abstract StreamingProxy.Builder builder();

    /** The HTTP client under test, for the printed figures. */
    abstract String clientName();

    private String label() {
        return server.name() + ", " + clientName();
    }

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int STREAMED = 64 << 20;

    private static HttpServer backend;
    private static ExecutorService backendThreads;
    private static TestServer server;
    private static StreamingProxy proxy;
    private static StreamingProxy impatient;
    private static StreamingProxy single;
    private static final Semaphore sseGate = new Semaphore(0);
    private static volatile CountDownLatch stallRelease = new CountDownLatch(1);
    /** What the /proxy hooks were told at each exchange's end. */
    private static final java.util.concurrent.BlockingQueue<ProxyHooks.ProxyResult> completed =
            new java.util.concurrent.LinkedBlockingQueue<>();
    private static volatile CompletableFuture<Long> endlessWriteFailedAt = new CompletableFuture<>();
    private static int closedPort;

    private StreamClient client;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();

    @BeforeAll
    void start() throws Exception {
        backendThreads = Executors.newFixedThreadPool(16);
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 100);
        backend.setExecutor(backendThreads);
        backend.createContext("/bytes", ProxyContainerTest::bytes);
        backend.createContext("/echo", ProxyContainerTest::echoDigest);
        backend.createContext("/headers", ProxyContainerTest::echoHeaders);
        backend.createContext("/sse", ProxyContainerTest::gatedSse);
        backend.createContext("/stall", ProxyContainerTest::stall);
        backend.createContext("/endless", ProxyContainerTest::endless);
        backend.createContext("/broken", ProxyContainerTest::brokenMidBody);
        backend.createContext("/pause", ProxyContainerTest::pauseMidBody);
        backend.createContext("/login", exchange -> {
            exchange.getResponseHeaders().add("Set-Cookie", "session=alice; Path=/");
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        backend.createContext("/status", exchange -> {
            // ?code=N: that status, no body; the backend's own Server header, as any origin sends one.
            int code = Integer.parseInt(exchange.getRequestURI().getQuery().substring("code=".length()));
            exchange.getResponseHeaders().add("Server", "origin/1.0");
            exchange.getResponseHeaders().add("X-Status", Integer.toString(code));
            exchange.sendResponseHeaders(code, -1);
            exchange.close();
        });
        backend.createContext("/missing", exchange -> {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        backend.start();
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        proxy = builder().build();
        impatient = builder().responseTimeout(Duration.ofMillis(300)).idleTimeout(Duration.ofMillis(300))
                .build();
        single = builder().maxConcurrent(1).retryAfter(Duration.ofSeconds(3)).build();
        URI base = URI.create("http://127.0.0.1:" + backend.getAddress().getPort());
        TestApp app = new TestApp()
                .route("/proxy/*", (req, resp) -> proxy.forward(Handoff.from(req), target(base, req, "/proxy"),
                        new ProxyHooks() {
                            @Override
                            public Reply onResponse(int status, ProxyHeaders headers) {
                                return status == 404 ? new Reply(410, "text/plain", "gone for good\n") : null;
                            }

                            @Override
                            public void onHeaders(int status, ProxyHeaders headers) {
                                headers.set("X-Proxied-By", "handoff");
                            }

                            @Override
                            public void onComplete(ProxyResult result) {
                                completed.add(result);
                            }
                        }))
                .route("/impatient/*", (req, resp) -> impatient.forward(req, target(base, req, "/impatient")))
                .route("/single/*", (req, resp) -> single.forward(req, target(base, req, "/single")))
                .route("/nowhere/*", (req, resp) -> proxy.forward(req, URI.create("http://127.0.0.1:" + closedPort
                        + "/")));
        server = TestServer.start(app);
    }

    private static URI target(URI base, jakarta.servlet.http.HttpServletRequest req, String prefix) {
        String path = req.getRequestURI().substring(prefix.length());
        return base.resolve(path + (req.getQueryString() == null ? "" : "?" + req.getQueryString()));
    }

    @AfterAll
    void stop() throws Exception {
        stallRelease.countDown();
        server.close();
        proxy.close();
        impatient.close();
        single.close();
        backend.stop(0);
        backendThreads.shutdownNow();
    }

    @BeforeEach
    void newClient() throws Exception {
        client = new StreamClient(server.port());
    }

    @AfterEach
    void closeClient() throws Exception {
        stallRelease.countDown();
        client.close();
    }

    // ------------------------------------------------------------------ backend

    private static byte[] pattern(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }

    private static void bytes(HttpExchange exchange) throws IOException {
        int size = Integer.parseInt(exchange.getRequestURI().getQuery().substring("size=".length()));
        byte[] block = pattern(64 * 1024);
        exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
        exchange.sendResponseHeaders(200, size);
        try (OutputStream out = exchange.getResponseBody()) {
            for (int left = size; left > 0; left -= block.length) {
                out.write(block, 0, Math.min(left, block.length));
            }
        }
    }

    private static void echoDigest(HttpExchange exchange) throws IOException {
        MessageDigest digest = sha256();
        long total = 0;
        try (InputStream in = exchange.getRequestBody()) {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, n);
                total += n;
            }
        }
        byte[] body = (total + " " + HexFormat.of().formatHex(digest.digest())).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static void echoHeaders(HttpExchange exchange) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, List<String>> e : exchange.getRequestHeaders().entrySet()) {
            sb.append(e.getKey().toLowerCase()).append(": ").append(String.join(",", e.getValue())).append('\n');
        }
        byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Connection", "X-Secret");
        exchange.getResponseHeaders().add("X-Secret", "do not forward");
        exchange.getResponseHeaders().add("Keep-Alive", "timeout=5");
        exchange.getResponseHeaders().add("X-Public", "forward me");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** Sends event k only when the test released it: proves each event is flushed through on its own. */
    private static void gatedSse(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream out = exchange.getResponseBody()) {
            // The JDK's server holds the head until the body's first flush (JDK 25 does; 17 sent it at once).
            out.flush();
            for (int k = 0; k < 5; k++) {
                if (!sseGate.tryAcquire(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    return;
                }
                out.write(("id: " + k + "\ndata: event " + k + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void stall(HttpExchange exchange) throws IOException {
        try {
            stallRelease.await(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        exchange.sendResponseHeaders(204, -1);
        exchange.close();
    }

    /** Writes until the connection breaks, and records when it did. */
    private static void endless(HttpExchange exchange) throws IOException {
        byte[] block = pattern(16 * 1024);
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        long deadline = System.nanoTime() + WAIT.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                out.write(block);
                out.flush();
            }
        } catch (IOException e) {
            endlessWriteFailedAt.complete(System.nanoTime());
        } finally {
            exchange.close();
        }
    }

    /** Declares 1 MiB, sends 100 KiB, then drops the connection. */
    private static void brokenMidBody(HttpExchange exchange) throws IOException {
        exchange.sendResponseHeaders(200, 1 << 20);
        OutputStream out = exchange.getResponseBody();
        out.write(pattern(100 * 1024));
        out.flush();
        exchange.close();
    }

    /** Sends 10 KiB of a 1 MiB body, then nothing until released. */
    private static void pauseMidBody(HttpExchange exchange) throws IOException {
        exchange.sendResponseHeaders(200, 1 << 20);
        OutputStream out = exchange.getResponseBody();
        out.write(pattern(10 * 1024));
        out.flush();
        try {
            stallRelease.await(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        exchange.close();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ tests

    @Test
    void aLargeDownloadIsStreamedThroughIntactAndAsFastAsTheClientReads() throws Exception {
        long start = System.nanoTime();
        HttpResponse<InputStream> direct = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + backend.getAddress().getPort() + "/bytes?size=" + STREAMED)).build(), HttpResponse.BodyHandlers.ofInputStream());
        String directDigest = digestOf(direct.body());
        double directSeconds = (System.nanoTime() - start) / 1e9;

        start = System.nanoTime();
        HttpResponse<InputStream> proxied = http.send(HttpRequest.newBuilder(server.uri("/proxy/bytes?size=" + STREAMED))
                .build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(proxied.statusCode()).isEqualTo(200);
        assertThat(proxied.headers().firstValue("X-Proxied-By")).contains("handoff");
        assertThat(proxied.headers().firstValue("Content-Length")).as("the backend's length, passed on")
                .contains(Long.toString(STREAMED));
        String proxiedDigest = digestOf(proxied.body());
        double proxiedSeconds = (System.nanoTime() - start) / 1e9;
        assertThat(proxiedDigest).isEqualTo(directDigest);
        System.out.printf("[figures] %s: %d MiB through the proxy at %.0f MB/s; direct from the backend %.0f MB/s "
                        + "(ratio %.2f)%n", label(), STREAMED >> 20, STREAMED / proxiedSeconds / 1e6,
                STREAMED / directSeconds / 1e6, directSeconds / proxiedSeconds);
    }

    private static String digestOf(InputStream in) throws IOException {
        MessageDigest digest = sha256();
        byte[] buffer = new byte[64 * 1024];
        int n;
        try (in) {
            while ((n = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Test
    void anUploadIsStreamedToTheBackendIntact() throws Exception {
        byte[] content = pattern(16 << 20);
        completed.clear();
        HttpResponse<String> fixed = http.send(HttpRequest.newBuilder(server.uri("/proxy/echo"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(content)).build(), HttpResponse.BodyHandlers.ofString());
        String expected = content.length + " " + HexFormat.of().formatHex(sha256().digest(content));
        assertThat(fixed.body()).isEqualTo(expected);
        assertBytesEachWay(content.length, expected.length());
        HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(server.uri("/proxy/echo"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(content))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(chunked.body()).isEqualTo(expected);
        assertBytesEachWay(content.length, expected.length());
    }

    /** The next exchange's end, as the hooks were told it: the bytes it moved each way. */
    private static void assertBytesEachWay(long toBackend, long toClient) throws InterruptedException {
        ProxyHooks.ProxyResult result = completed.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(result).as("the exchange's end").isNotNull();
        assertThat(result.bytesToBackend()).as("bytes to the backend").isEqualTo(toBackend);
        assertThat(result.bytesToClient()).as("bytes to the client").isEqualTo(toClient);
    }

    @Test
    void sseFromTheBackendIsFlushedThroughEventByEvent() throws Exception {
        sseGate.drainPermits();
        Conn c = client.get("/proxy/sse");
        StreamClient.Head head = c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(head.header("Content-Type")).startsWith("text/event-stream");
        assertThat(head.header("Transfer-Encoding")).as("a stream of unknown length").isEqualToIgnoringCase("chunked");
        long worst = 0;
        for (int k = 0; k < 5; k++) {
            long released = System.nanoTime();
            sseGate.release();
            // The backend sends event k+1 only after this: event k must have come through on its own.
            assertThat(c.awaitEvents(k + 1, WAIT).get(k).data()).isEqualTo("event " + k);
            worst = Math.max(worst, (System.nanoTime() - released) / 1_000_000);
        }
        System.out.printf("[figures] %s: SSE through the proxy, backend send to client receipt, worst of 5: %d ms%n",
                label(), worst);
    }

    @Test
    void aClientThatLeavesCancelsTheBackendExchange() throws Exception {
        endlessWriteFailedAt = new CompletableFuture<>();
        Conn c = client.request("GET", "/proxy/endless", 0, false);
        assertThat(c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        c.awaitCondition(conn -> conn.bodyBytes() > 1 << 20, WAIT, "1 MiB of body");
        long left = System.nanoTime();
        c.close();
        long failedAt = endlessWriteFailedAt.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        System.out.printf("[figures] %s: client left; the backend's connection broke %d ms later%n", label(),
                Math.max(0, failedAt - left) / 1_000_000);
    }

    @Test
    void failuresBeforeTheResponseAre502Or504WithAShortBody() throws Exception {
        HttpResponse<String> refused = http.send(HttpRequest.newBuilder(server.uri("/nowhere/x")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(502);
        assertThat(refused.body()).contains("the backend refused the connection");

        stallRelease = new CountDownLatch(1);
        HttpResponse<String> slow = http.send(HttpRequest.newBuilder(server.uri("/impatient/stall")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(slow.statusCode()).isEqualTo(504);
        assertThat(slow.body()).contains("did not answer within the time-out");
        stallRelease.countDown();
    }

    @Test
    void bodilessStatusesAndHeadPassThroughWithoutABodyAndWithOneServerHeader() throws Exception {
        for (int code : new int[] {204, 205, 304}) {
            Conn c = client.request("GET", "/proxy/status?code=" + code, 0, true);
            StreamClient.Head head = c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(head.status()).as("status %d", code).isEqualTo(code);
            assertThat(head.header("X-Status")).isEqualTo(Integer.toString(code));
            assertThat(head.header("Server")).as("one Server header, the backend's").isEqualTo("origin/1.0");
            assertThat(c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
            assertThat(c.bodyBytes()).isZero();
        }
        Conn head = client.request("HEAD", "/proxy/status?code=200", 0, true);
        StreamClient.Head h = head.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(h.status()).isEqualTo(200);
        assertThat(h.header("Server")).isEqualTo("origin/1.0");
        assertThat(head.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
        assertThat(head.bodyBytes()).isZero();
        // A body-carrying response from the same backend: still one Date and one Server header.
        Conn get = client.request("GET", "/proxy/bytes?size=1000", 0, true);
        StreamClient.Head g = get.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(g.header("Date")).doesNotContain(",  ").matches("[^,]+, [^,]+");
        assertThat(java.util.Objects.toString(g.header("Server"), "")).as("at most one Server header").doesNotContain(", ");
        get.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void aBackendThatFailsMidBodyNeverYieldsABodyThatLooksComplete() throws Exception {
        LogWatch.expect("ended: ERROR \\(the backend .* failed mid-body");
        long abortedBefore = proxy.stats().abortedMidBody();
        Conn c = client.request("GET", "/proxy/broken", 0, false);
        StreamClient.Head head = c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Content-Length")).isEqualTo(Integer.toString(1 << 20));
        String end = c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(c.bodyBytes()).isLessThan(1 << 20);
        // Cut on every container (Tomcat through its own CLOSE_NOW action): short of its length, and closed.
        assertThat(end).isEqualTo("closed");
        // Counted after the stream's end was logged: waiting for it keeps that line inside this test.
        Awaitility.await().atMost(WAIT).until(() -> proxy.stats().abortedMidBody() > abortedBefore);
    }

    @Test
    void aBackendThatPausesMidBodyForTheIdleTimeOutAbortsTheResponse() throws Exception {
        LogWatch.expect("ended: ERROR \\(the backend .* failed mid-body after 10240 bytes: .*TimeoutException");
        stallRelease = new CountDownLatch(1);
        long abortedBefore = impatient.stats().abortedMidBody();
        Conn c = client.request("GET", "/impatient/pause", 0, false);
        assertThat(c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        String end = c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(c.bodyBytes()).isEqualTo(10 * 1024);
        assertThat(end).isEqualTo("closed");
        Awaitility.await().atMost(WAIT).until(() -> impatient.stats().abortedMidBody() == abortedBefore + 1);
        stallRelease.countDown();
    }

    @Test
    void aGigabyteEachWayStreamsThroughWithoutTheHeapGrowing() throws Exception {
        long size = 1L << 30;
        byte[] block = pattern(64 * 1024);
        MessageDigest expected = sha256();
        for (long left = size; left > 0; left -= block.length) {
            expected.update(block, 0, (int) Math.min(left, block.length));
        }
        String expectedDigest = HexFormat.of().formatHex(expected.digest());
        long baseline = liveHeap();
        long[] grown = new long[2];

        long start = System.nanoTime();
        HttpResponse<InputStream> down = http.send(HttpRequest.newBuilder(server.uri("/proxy/bytes?size=" + size))
                .build(), HttpResponse.BodyHandlers.ofInputStream());
        MessageDigest got = sha256();
        byte[] buffer = new byte[64 * 1024];
        long read = 0;
        try (InputStream in = down.body()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                got.update(buffer, 0, n);
                if (read < size / 2 && read + n >= size / 2) {
                    grown[0] = liveHeap() - baseline;
                }
                read += n;
            }
        }
        double downSeconds = (System.nanoTime() - start) / 1e9;
        assertThat(HexFormat.of().formatHex(got.digest())).isEqualTo(expectedDigest);

        start = System.nanoTime();
        HttpResponse<String> up = http.send(HttpRequest.newBuilder(server.uri("/proxy/echo"))
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(
                        () -> new RepeatingStream(block, size, () -> grown[1] = liveHeap() - baseline)), size))
                .build(), HttpResponse.BodyHandlers.ofString());
        double upSeconds = (System.nanoTime() - start) / 1e9;
        assertThat(up.body()).isEqualTo(size + " " + expectedDigest);
        System.out.printf("[figures] %s: 1 GiB through the proxy: down %.0f MB/s, up %.0f MB/s; live heap growth at "
                        + "half-way (client, proxy and backend in this JVM): down %d KiB, up %d KiB%n", label(),
                size / downSeconds / 1e6, size / upSeconds / 1e6, grown[0] >> 10, grown[1] >> 10);
        assertThat(grown[0]).as("live heap growth half-way through the download").isLessThan(64L << 20);
        assertThat(grown[1]).as("live heap growth half-way through the upload").isLessThan(64L << 20);
    }

    /** The heap still in use after a full collection. */
    private static long liveHeap() {
        System.gc();
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** {@code size} bytes of {@code block} repeated, calling {@code halfway} once in the middle. */
    private static final class RepeatingStream extends InputStream {
        private final byte[] block;
        private final long size;
        private final Runnable halfway;
        private long position;

        RepeatingStream(byte[] block, long size, Runnable halfway) {
            this.block = block;
            this.size = size;
            this.halfway = halfway;
        }

        @Override
        public int read() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position >= size) {
                return -1;
            }
            int at = (int) (position % block.length);
            int n = (int) Math.min(Math.min(len, block.length - at), size - position);
            System.arraycopy(block, at, b, off, n);
            if (position < size / 2 && position + n >= size / 2) {
                halfway.run();
            }
            position += n;
            return n;
        }
    }

    @Test
    void overTheConcurrencyLimitARequestGets503WithRetryAfter() throws Exception {
        stallRelease = new CountDownLatch(1);
        long refusedBefore = single.stats().refused();
        Conn first = client.get("/single/stall");
        // Wait until the first exchange holds the only place.
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> single.stats().active() == 1);
        HttpResponse<String> second = http.send(HttpRequest.newBuilder(server.uri("/single/stall")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(second.statusCode()).isEqualTo(503);
        assertThat(second.headers().firstValue("Retry-After")).contains("3");
        assertThat(second.body()).contains("limit of 1 concurrent exchanges");
        assertThat(single.stats().refused()).isEqualTo(refusedBefore + 1);
        stallRelease.countDown();
        assertThat(first.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(204);
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> single.stats().active() == 0);
    }

    @Test
    void hopByHopHeadersAreRemovedBothWaysAndForwardedHeadersAdded() throws Exception {
        Conn c = client.get("/proxy/headers", "Connection: X-Drop", "X-Drop: 1", "Keep-Alive: timeout=5",
                "TE: trailers", "Proxy-Authorization: Basic eA==", "X-Keep: yes", "X-Forwarded-For: 10.0.0.1");
        StreamClient.Head head = c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        String seen = c.body();
        assertThat(seen).contains("x-keep: yes", "x-forwarded-for: 10.0.0.1, 127.0.0.1", "x-forwarded-proto: http",
                "x-forwarded-host: 127.0.0.1:" + server.port());
        assertThat(seen).doesNotContain("x-drop", "keep-alive", "te:", "proxy-authorization");
        assertThat(head.header("X-Public")).isEqualTo("forward me");
        assertThat(head.header("X-Secret")).isNull();
        assertThat(head.header("Keep-Alive")).isNull();
    }

    @Test
    void theHttpClientAddsNothingOfItsOwnNeitherCookiesFromEarlierExchangesNorAcceptEncoding() throws Exception {
        Conn login = client.get("/proxy/login");
        assertThat(login.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).header("Set-Cookie"))
                .isEqualTo("session=alice; Path=/");
        login.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        Conn other = client.get("/proxy/headers");
        other.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(other.body()).doesNotContain("cookie:", "accept-encoding:", "authorization:");
        Conn mine = client.get("/proxy/headers", "Cookie: session=bob", "Accept-Encoding: gzip");
        mine.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(mine.body()).contains("cookie: session=bob", "accept-encoding: gzip");
    }

    @Test
    void aHookMayReplaceTheBackendsResponse() throws Exception {
        HttpResponse<String> replaced = http.send(HttpRequest.newBuilder(server.uri("/proxy/missing")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(replaced.statusCode()).isEqualTo(410);
        assertThat(replaced.body()).isEqualTo("gone for good\n");
    }

    @Test
    void twoHundredConcurrentDownloadsOnEightRequestThreads() throws Exception {
        int size = 256 * 1024;
        List<Conn> conns = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            conns.add(client.request("GET", "/proxy/bytes?size=" + size, 0, false));
        }
        long start = System.nanoTime();
        for (Conn c : conns) {
            assertThat(c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
            assertThat(c.bodyBytes()).isEqualTo(size);
        }
        System.out.printf("[figures] %s: 200 concurrent proxied downloads of 256 KiB on %d request threads: %d ms%n",
                label(), TestServer.THREADS, (System.nanoTime() - start) / 1_000_000);
    }
}
