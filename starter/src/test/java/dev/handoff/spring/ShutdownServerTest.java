package dev.handoff.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.StreamClient.Conn;
import dev.handoff.registry.StreamRegistry;
import dev.handoff.spring.app.StreamingApplication;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Closing the application context with open streams: Spring Boot's graceful shutdown would wait for them
 * (the usual {@code SseEmitter} stall); Handoff closes them first, within its grace period.
 */
class ShutdownServerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void closingTheContextEndsOpenStreamsWithAFinalEventWithinTheGracePeriod() throws Exception {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(StreamingApplication.class).properties(
                "server.port=0", "server.address=127.0.0.1", "server.shutdown=graceful",
                "spring.lifecycle.timeout-per-shutdown-phase=30s", "handoff.shutdown.grace-period=5s",
                "handoff.shutdown.reconnect-delay=3s", "logging.level.org.springframework=warn").run();
        int port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
        StreamRegistry registry = context.getBean(StreamRegistry.class);
        List<Conn> conns = new ArrayList<>();
        java.util.Set<Long> retries = new java.util.HashSet<>();
        try (StreamClient client = new StreamClient(port)) {
            for (int i = 0; i < 200; i++) {
                conns.add(client.get("/tasks/shutdown/progress"));
            }
            for (Conn c : conns) {
                assertThat(c.head.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            Awaitility.await().atMost(WAIT).until(() -> registry.openStreams() == 200);

            long start = System.nanoTime();
            context.close();
            long closeMillis = (System.nanoTime() - start) / 1_000_000;

            for (Conn c : conns) {
                assertThat(c.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("complete");
                List<Event> events = c.events();
                assertThat(events).extracting(Event::type).containsExactly("shutdown");
                // 3 s, plus up to the default jitter of 5 s: each stream comes back at its own time.
                assertThat(c.retry()).isBetween(3_000L, 8_000L);
                retries.add(c.retry());
            }
            assertThat(retries).as("the retries of 200 streams").hasSizeGreaterThan(100);
            assertThat(registry.openStreams()).isZero();
            assertThat(closeMillis).as("context close with 200 open streams, grace period 5 s").isLessThan(5_000);
            System.out.printf("[figures] Spring Boot %s, %s: context closed with 200 open streams in %d ms "
                            + "(graceful server shutdown on, Handoff grace period 5 s)%n",
                    org.springframework.boot.SpringBootVersion.getVersion(),
                    System.getProperty("handoff.test.container"), closeMillis);
        } finally {
            context.close();
        }
    }
}
