package dev.handoff.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.SseEvent;
import dev.handoff.core.support.JettyTestServer;
import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import dev.handoff.core.support.TomcatTestServer;
import dev.handoff.registry.StreamRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two instances of one application, one on Jetty and one on Tomcat, each with its own registry, sharing their
 * topics through a real Redis: what is published on either reaches the subscribers of both, in one order.
 */
class ClusterDeliveryTest {

    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final AtomicInteger APPS = new AtomicInteger();

    private final List<AutoCloseable> open = new ArrayList<>();

    /** One instance: a registry on the shared Redis, and {@code /sse?topic=} on a container of its own. */
    private record Node(StreamRegistry registry, TestServer server, StreamClient client) {
    }

    private Node node(String prefix, boolean jetty) throws Exception {
        StreamRegistry registry = StreamRegistry.builder()
                .cluster(RedisCluster.builder(redis.uri()).keyPrefix(prefix).build())
                .shutdown(Duration.ofSeconds(1), null).build();
        TestApp app = new TestApp().route("/sse", (req, resp) -> registry.subscribe(req, req.getParameter("topic")));
        TestServer server = jetty ? JettyTestServer.start(app) : TomcatTestServer.start(app);
        StreamClient client = new StreamClient(server.port());
        open.add(client);
        open.add(server);
        open.add(registry);
        return new Node(registry, server, client);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    @Test
    void anEventPublishedOnOneInstanceReachesTheSubscribersOfBothWithOneId() throws Exception {
        String prefix = "app" + APPS.incrementAndGet() + ":";
        Node a = node(prefix, true);
        Node b = node(prefix, false);
        StreamClient.Conn onA = a.client().get("/sse?topic=chat");
        StreamClient.Conn onB = b.client().get("/sse?topic=chat");
        awaitSubscribers(a, 1);
        awaitSubscribers(b, 1);

        String id = a.registry().publishAsync("chat", SseEvent.of("message", "hello from A")).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);

        Event seenOnA = onA.awaitEvents(1, WAIT).get(0);
        Event seenOnB = onB.awaitEvents(1, WAIT).get(0);
        assertThat(seenOnB.data()).isEqualTo("hello from A");
        assertThat(seenOnB.type()).isEqualTo("message");
        assertThat(seenOnB.lastEventId()).as("the cluster's id, the same on every instance").isEqualTo(id)
                .isEqualTo(seenOnA.lastEventId()).contains("_");
    }

    @Test
    void eventsPublishedOnBothInstancesAtOnceArriveInTheSameOrderEverywhere() throws Exception {
        String prefix = "app" + APPS.incrementAndGet() + ":";
        Node a = node(prefix, true);
        Node b = node(prefix, false);
        StreamClient.Conn onA = a.client().get("/sse?topic=orders");
        StreamClient.Conn onB = b.client().get("/sse?topic=orders");
        awaitSubscribers(a, 1);
        awaitSubscribers(b, 1);

        int each = 200;
        CompletableFuture<?> fromA = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < each; i++) {
                a.registry().publish("orders", "a" + i);
            }
        });
        CompletableFuture<?> fromB = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < each; i++) {
                b.registry().publish("orders", "b" + i);
            }
        });
        CompletableFuture.allOf(fromA, fromB).get(10, TimeUnit.SECONDS);

        List<String> orderOnA = data(onA.awaitEvents(2 * each, WAIT));
        List<String> orderOnB = data(onB.awaitEvents(2 * each, WAIT));
        assertThat(orderOnA).hasSize(2 * each).isEqualTo(orderOnB);
        // Each publisher's own events keep its order within the one order.
        assertThat(orderOnA.stream().filter(d -> d.startsWith("a")).toList())
                .isEqualTo(IntStream.range(0, each).mapToObj(i -> "a" + i).toList());
        assertThat(orderOnA.stream().filter(d -> d.startsWith("b")).toList())
                .isEqualTo(IntStream.range(0, each).mapToObj(i -> "b" + i).toList());
    }

    @Test
    void aTopicOnlyOneInstanceSubscribesToIsDeliveredThereAndTheOtherKeepsNothingOfIt() throws Exception {
        String prefix = "app" + APPS.incrementAndGet() + ":";
        Node a = node(prefix, true);
        Node b = node(prefix, false);
        StreamClient.Conn onB = b.client().get("/sse?topic=only-b");
        awaitSubscribers(b, 1);
        for (int i = 0; i < 5; i++) {
            a.registry().publish("only-b", "e" + i);
        }
        assertThat(data(onB.awaitEvents(5, WAIT))).containsExactly("e0", "e1", "e2", "e3", "e4");
        assertThat(a.registry().subscribers("only-b")).isZero();
    }

    @Test
    void aClientCutOnOneInstanceResumesOnTheOtherWithNoGapAndNoDuplicate() throws Exception {
        String prefix = "app" + APPS.incrementAndGet() + ":";
        Node a = node(prefix, true);
        Node b = node(prefix, false);
        StreamClient.Conn first = a.client().get("/sse?topic=feed");
        awaitSubscribers(a, 1);
        for (int i = 0; i < 3; i++) {
            a.registry().publish("feed", "e" + i);
        }
        List<Event> seen = first.awaitEvents(3, WAIT);
        first.close();
        // Published while the client is away, on the instance it will come back to.
        for (int i = 3; i < 8; i++) {
            b.registry().publishAsync("feed", SseEvent.of("e" + i)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        }

        StreamClient.Conn back = b.client().get("/sse?topic=feed", "Last-Event-ID: " + seen.get(2).lastEventId());
        assertThat(data(back.awaitEvents(5, WAIT))).containsExactly("e3", "e4", "e5", "e6", "e7");
        b.registry().publish("feed", "e8");
        assertThat(data(back.awaitEvents(6, WAIT))).endsWith("e8").doesNotHaveDuplicates();
    }

    @Test
    void anInstanceThatStartedAfterTheEventsSaysResetForAnIdItCannotPlace() throws Exception {
        String prefix = "app" + APPS.incrementAndGet() + ":";
        Node a = node(prefix, true);
        String id = a.registry().publishAsync("late", SseEvent.of("before b")).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        Node b = node(prefix, false);
        StreamClient.Conn back = b.client().get("/sse?topic=late", "Last-Event-ID: " + id);
        Event reset = back.awaitEvents(1, WAIT).get(0);
        assertThat(reset.type()).isEqualTo(StreamRegistry.RESET_EVENT);
        assertThat(reset.data()).isEqualTo("late");
    }

    private static List<String> data(List<Event> events) {
        return events.stream().map(Event::data).toList();
    }

    /** Waits, within a deadline, until the instance's registry holds {@code count} open streams. */
    private static void awaitSubscribers(Node n, int count) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (n.registry().openStreams() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no subscriber on " + n.server().name() + " within " + WAIT);
            }
            Thread.sleep(10);
        }
    }
}
