package dev.handoff.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.Handoff;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.StreamScheduler;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestCertificate;
import dev.handoff.core.support.TestServer;
import dev.handoff.proxy.StreamingProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SSE over TLS on the container of this Maven execution, as browsers reach it: HTTP/2 by ALPN (h2), many streams of
 * one client on one connection, and HTTP/1.1 over the same port for a client that offers only that; and the proxy
 * to a backend that speaks HTTP/2 (this same server). The client is the JDK's own {@code HttpClient}; the
 * certificate is made at test time.
 */
class Http2TlsContainerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static TestCertificate certificate;
    private static StreamScheduler scheduler;
    private static StreamRegistry registry;
    private static TestServer server;
    private static StreamingProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        certificate = TestCertificate.create();
        scheduler = StreamScheduler.create(2, Duration.ofMillis(50));
        registry = StreamRegistry.builder().scheduler(scheduler).build();
        // The proxy's backend is this server, over h2: the JDK client speaks HTTP/2 where ALPN offers it.
        proxy = StreamingProxy.builder().client(HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                .sslContext(certificate.sslContext()).connectTimeout(WAIT).build()).build();
        server = TestServer.start(new TestApp().tls(certificate)
                .filterOptions(StreamOptions.defaults().withScheduler(scheduler))
                .route("/sse", (req, resp) -> {
                    resp.setHeader("X-Backend-Protocol", req.getProtocol());
                    registry.subscribe(req, req.getParameter("topic"));
                })
                .route("/upload", (req, resp) -> {
                    Handoff handoff = Handoff.from(req);
                    AtomicLong characters = new AtomicLong();
                    handoff.body(1 << 20).lines(1024, line -> characters.addAndGet(line.length()))
                            .thenAccept(lines -> {
                                var out = handoff.respond(200).contentType("text/plain").stream();
                                out.write(req.getProtocol() + ": " + lines + " lines, " + characters + " characters");
                                out.close();
                            });
                })
                .route("/proxy/*", (req, resp) -> proxy.forward(req, URI.create("https://localhost:" + server.port()
                        + req.getPathInfo() + (req.getQueryString() == null ? "" : "?" + req.getQueryString())))));
    }

    @AfterAll
    static void stop() throws Exception {
        proxy.close();
        registry.shutdown(Duration.ofSeconds(2), null);
        server.close();
        scheduler.close();
    }

    private static URI uri(String topic) {
        return URI.create("https://localhost:" + server.port() + "/sse?topic=" + topic);
    }

    /** Opens {@code n} streams of {@code topic} on one client, publishes one event, and returns what each read first. */
    private static List<HttpResponse<Stream<String>>> open(HttpClient http, String topic, int n) throws Exception {
        List<HttpResponse<Stream<String>>> responses = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            responses.add(http.sendAsync(HttpRequest.newBuilder(uri(topic)).build(), HttpResponse.BodyHandlers.ofLines())
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS));
        }
        awaitSubscribers(topic, n);
        return responses;
    }

    private static void assertEachGets(List<HttpResponse<Stream<String>>> responses, String data) throws Exception {
        List<CompletableFuture<String>> first = new ArrayList<>();
        for (HttpResponse<Stream<String>> r : responses) {
            first.add(CompletableFuture.supplyAsync(() -> r.body().filter(l -> l.startsWith("data:")).findFirst()
                    .orElse("(ended)")));
        }
        for (CompletableFuture<String> f : first) {
            assertThat(f.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("data: " + data);
        }
        responses.forEach(r -> r.body().close());
    }

    @Test
    void twentyStreamsOfOneClientShareAnH2ConnectionAndEachGetsTheEvent() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(certificate.sslContext())
                .connectTimeout(WAIT).build();
        List<HttpResponse<Stream<String>>> responses = open(http, "h2", 20);
        for (HttpResponse<Stream<String>> r : responses) {
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.headers().map().keySet()).doesNotContain("connection", "transfer-encoding", "keep-alive");
        }
        registry.publish("h2", "over h2");
        assertEachGets(responses, "over h2");
    }

    @Test
    void aClientThatOffersOnlyHttp11IsServedOverTlsAsBefore() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(certificate.sslContext()).connectTimeout(WAIT).build();
        List<HttpResponse<Stream<String>>> responses = open(http, "h1", 3);
        for (HttpResponse<Stream<String>> r : responses) {
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        }
        registry.publish("h1", "over http/1.1");
        assertEachGets(responses, "over http/1.1");
    }

    @Test
    void theProxyRelaysAStreamFromAnHttp2BackendToAnHttp2Client() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(certificate.sslContext())
                .connectTimeout(WAIT).build();
        HttpResponse<Stream<String>> relayed = http.sendAsync(HttpRequest.newBuilder(URI.create("https://localhost:"
                + server.port() + "/proxy/sse?topic=proxied")).build(), HttpResponse.BodyHandlers.ofLines())
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(relayed.statusCode()).isEqualTo(200);
        assertThat(relayed.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(relayed.headers().firstValue("x-backend-protocol")).hasValue("HTTP/2.0");
        assertThat(relayed.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        // Neither HTTP/1.1's connection headers nor the backend's pseudo-headers (:status) are passed on.
        assertThat(relayed.headers().map().keySet()).doesNotContain("connection", "transfer-encoding", "keep-alive",
                "upgrade");
        assertThat(relayed.headers().map().keySet()).noneMatch(name -> name.startsWith(":") && !name.equals(":status"));
        awaitSubscribers("proxied", 1);
        registry.publish("proxied", "through the proxy");
        assertEachGets(List.of(relayed), "through the proxy");
    }

    @Test
    void theProxyForwardsAnUploadToAnHttp2Backend() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(certificate.sslContext())
                .connectTimeout(WAIT).build();
        String lines = ("y".repeat(99) + "\n").repeat(2_000); // 200 kB
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.port()
                + "/proxy/upload")).POST(HttpRequest.BodyPublishers.ofString(lines, StandardCharsets.US_ASCII))
                .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("HTTP/2.0: 2000 lines, " + 2_000 * 99 + " characters");
    }

    private static void awaitSubscribers(String topic, int n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (registry.subscribers(topic) < n) {
            assertThat(System.nanoTime()).as(n + " subscribers of " + topic).isLessThan(deadline);
            Thread.sleep(5);
        }
    }
}
