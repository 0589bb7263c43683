package dev.handoff.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.redis.RedisServer;
import dev.handoff.registry.StreamRegistry;
import dev.handoff.spring.app.StreamingApplication;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two instances of one Spring Boot application with {@code handoff.cluster.enabled=true} and Spring Boot's
 * {@code spring.data.redis.*} pointing at a real Redis: an event published through one's {@link HandoffStreams}
 * reaches a controller stream of the other.
 */
class ClusterServerTest {

    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    private static final Duration WAIT = Duration.ofSeconds(30);

    private final List<AutoCloseable> open = new ArrayList<>();

    private ConfigurableApplicationContext instance(String prefix) {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(StreamingApplication.class).properties(
                "server.port=0", "server.address=127.0.0.1", "logging.level.org.springframework=warn",
                "handoff.cluster.enabled=true", "handoff.cluster.key-prefix=" + prefix,
                "spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + redis.port(),
                "management.endpoints.web.exposure.include=health,handoff",
                "management.endpoint.health.show-details=always").run();
        open.add(context);
        return context;
    }

    private static int port(ConfigurableApplicationContext context) {
        return Integer.parseInt(context.getEnvironment().getRequiredProperty("local.server.port"));
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    @Test
    void aPublishOnOneInstanceReachesAControllerStreamOnTheOther() throws Exception {
        ConfigurableApplicationContext a = instance("boot-cluster:");
        ConfigurableApplicationContext b = instance("boot-cluster:");
        StreamClient client = new StreamClient(port(b));
        open.add(client);
        StreamClient.Conn onB = client.get("/tasks/t1/progress");
        StreamRegistry registryB = b.getBean(StreamRegistry.class);
        Awaitility.await().atMost(WAIT).until(() -> registryB.subscribers("tasks/t1") == 1);

        String id = a.getBean(HandoffStreams.class).publish("tasks/t1", "progress",
                new StreamingApplication.Progress("t1", 42));

        assertThat(id).as("with a cluster the id comes from Redis").isNull();
        Event e = onB.awaitEvents(1, WAIT).get(0);
        assertThat(e.type()).isEqualTo("progress");
        assertThat(e.data()).contains("\"percentDone\":42");
        assertThat(e.lastEventId()).contains("_");

        String second = a.getBean(HandoffStreams.class).publishAsync("tasks/t1", "progress",
                new StreamingApplication.Progress("t1", 43)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(onB.awaitEvents(2, WAIT).get(1).lastEventId()).isEqualTo(second);

        // What operations see of the cluster on B: health, the endpoint, and the meters.
        String health = get(port(b), "/actuator/health");
        assertThat(health).doesNotContain("DOWN").contains("\"handoff\":{").contains("\"connected\":true")
                .contains("\"position\":\"" + second + "\"");
        assertThat(get(port(b), "/actuator/handoff")).contains("\"cluster\":{\"connected\":true");
        MeterRegistry meters = b.getBean(MeterRegistry.class);
        assertThat(meters.get("handoff.cluster.lag").timer().count()).isEqualTo(2);
        assertThat(meters.get("handoff.cluster.connected").gauge().value()).isEqualTo(1.0);
        assertThat(meters.get("handoff.cluster.resets").functionCounter().count()).isZero();
    }

    private static String get(int port, String path) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
        return response.body();
    }

    @Test
    void theRedisUriIsMadeOfSpringBootsSettings() {
        org.springframework.mock.env.MockEnvironment env = new org.springframework.mock.env.MockEnvironment()
                .withProperty("spring.data.redis.host", "redis.internal").withProperty("spring.data.redis.port", "6380")
                .withProperty("spring.data.redis.username", "app").withProperty("spring.data.redis.password", "p@ss w")
                .withProperty("spring.data.redis.database", "3").withProperty("spring.data.redis.ssl.enabled", "true");
        assertThat(HandoffClusterAutoConfiguration.redisUri(env)).isEqualTo("rediss://app:p%40ss%20w@redis.internal:6380/3");
        assertThat(HandoffClusterAutoConfiguration.redisUri(new org.springframework.mock.env.MockEnvironment()
                .withProperty("spring.data.redis.url", "redis://other:1"))).isEqualTo("redis://other:1");
    }
}
