package dev.handoff.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.TestCertificate;
import dev.handoff.registry.StreamRegistry;
import dev.handoff.spring.app.StreamingApplication;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@code server.http2.enabled=true} with TLS (a certificate made at test time): a controller's streams go out over
 * HTTP/2, several on one connection of the JDK's client, as a browser's tab with more than six {@code EventSource}s
 * would open them, on Tomcat and on Jetty (the Maven executions).
 */
@SpringBootTest(classes = StreamingApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"server.address=127.0.0.1", "server.http2.enabled=true", "logging.level.org.springframework=warn"})
class Http2ServerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final TestCertificate CERTIFICATE = certificate();

    @Autowired
    Environment environment;
    @Autowired
    HandoffStreams streams;
    @Autowired
    StreamRegistry registry;

    private static TestCertificate certificate() {
        try {
            return TestCertificate.create();
        } catch (Exception e) {
            throw new IllegalStateException("no test certificate", e);
        }
    }

    @DynamicPropertySource
    static void tls(DynamicPropertyRegistry properties) {
        properties.add("server.ssl.key-store", () -> CERTIFICATE.keyStore().toString());
        properties.add("server.ssl.key-store-type", () -> "PKCS12");
        properties.add("server.ssl.key-store-password", () -> TestCertificate.PASSWORD);
        properties.add("server.ssl.key-alias", () -> TestCertificate.ALIAS);
    }

    @Test
    void tenStreamsOfOneClientGoOverHttp2AndEachGetsItsEvents() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(CERTIFICATE.sslContext())
                .connectTimeout(WAIT).build();
        URI uri = URI.create("https://localhost:" + environment.getProperty("local.server.port") + "/tasks/h2/progress");
        List<HttpResponse<Stream<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            responses.add(http.sendAsync(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofLines())
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS));
        }
        for (HttpResponse<Stream<String>> r : responses) {
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t)
                    .startsWith("text/event-stream"));
            assertThat(r.headers().map().keySet()).doesNotContain("connection", "transfer-encoding", "keep-alive");
        }
        Awaitility.await().atMost(WAIT).until(() -> registry.subscribers("tasks/h2") == 10);
        streams.publish("tasks/h2", "progress", new StreamingApplication.Progress("h2", 77));

        List<CompletableFuture<String>> firstData = new ArrayList<>();
        for (HttpResponse<Stream<String>> r : responses) {
            firstData.add(CompletableFuture.supplyAsync(() -> r.body().filter(l -> l.startsWith("data:")).findFirst()
                    .orElse("(ended)")));
        }
        for (CompletableFuture<String> data : firstData) {
            assertThat(data.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("data: {\"task\":\"h2\",\"percentDone\":77}");
        }
        for (HttpResponse<Stream<String>> r : responses) {
            r.body().close();
        }
    }
}
