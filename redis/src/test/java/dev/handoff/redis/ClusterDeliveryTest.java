package dev.handoff.redis;

import static dev.handoff.redis.Instance.WAIT;
import static dev.handoff.redis.Instance.data;
import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.SseEvent;
import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.registry.ClusterStats;
import dev.handoff.registry.RegistryListener;
import dev.handoff.registry.StreamRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
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

    private static final AtomicInteger APPS = new AtomicInteger();

    private final List<Instance> open = new ArrayList<>();

    /** Two instances of a new application: A on Jetty, B on Tomcat. */
    private Instance[] twoInstances() throws Exception {
        String prefix = "app" + APPS.incrementAndGet() + ":";
        open.add(Instance.start(redis, prefix, true));
        open.add(Instance.start(redis, prefix, false));
        return new Instance[] {open.get(open.size() - 2), open.get(open.size() - 1)};
    }

    @AfterEach
    void closeAll() throws Exception {
        for (Instance i : open) {
            i.close();
        }
    }

    @Test
    void anEventPublishedOnOneInstanceReachesTheSubscribersOfEveryInstanceWithOneId() throws Exception {
        Instance[] ab = twoInstances();
        Instance c = Instance.start(redis, "app" + APPS.get() + ":", true); // A third, on Jetty like A.
        open.add(c);
        StreamClient.Conn onA = ab[0].subscribe("chat");
        StreamClient.Conn onB = ab[1].subscribe("chat");
        StreamClient.Conn onC = c.subscribe("chat");

        String id = ab[0].registry.publishAsync("chat", SseEvent.of("message", "hello from A")).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);

        Event seenOnA = onA.awaitEvents(1, WAIT).get(0);
        for (StreamClient.Conn other : List.of(onB, onC)) {
            Event seen = other.awaitEvents(1, WAIT).get(0);
            assertThat(seen.data()).isEqualTo("hello from A");
            assertThat(seen.type()).isEqualTo("message");
            assertThat(seen.lastEventId()).as("the cluster's id, the same on every instance").isEqualTo(id)
                    .isEqualTo(seenOnA.lastEventId()).contains("_");
        }
    }

    @Test
    void eventsPublishedOnBothInstancesAtOnceArriveInTheSameOrderEverywhere() throws Exception {
        Instance[] ab = twoInstances();
        StreamClient.Conn onA = ab[0].subscribe("orders");
        StreamClient.Conn onB = ab[1].subscribe("orders");

        int each = 200;
        CompletableFuture<?> fromA = CompletableFuture.runAsync(() -> IntStream.range(0, each)
                .forEach(i -> ab[0].registry.publish("orders", "a" + i)));
        CompletableFuture<?> fromB = CompletableFuture.runAsync(() -> IntStream.range(0, each)
                .forEach(i -> ab[1].registry.publish("orders", "b" + i)));
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
    void aTopicOnlyOneInstanceSubscribesToIsDeliveredThereAndTheOtherHasNoSubscriberOfIt() throws Exception {
        Instance[] ab = twoInstances();
        StreamClient.Conn onB = ab[1].subscribe("only-b");
        for (int i = 0; i < 5; i++) {
            ab[0].registry.publish("only-b", "e" + i);
        }
        assertThat(data(onB.awaitEvents(5, WAIT))).containsExactly("e0", "e1", "e2", "e3", "e4");
        assertThat(ab[0].registry.subscribers("only-b")).isZero();
    }

    @Test
    void everyInstanceReportsEachEventsLagFromPublishToDeliveryAndItsClusterAsConnected() throws Exception {
        String prefix = "app" + APPS.incrementAndGet() + ":";
        List<Duration> lags = new CopyOnWriteArrayList<>();
        RegistryListener lagListener = new RegistryListener() {
            @Override
            public void onClusterDelivery(String topic, Duration lag) {
                lags.add(lag);
            }
        };
        Instance a = Instance.start(redis, prefix, true);
        open.add(a);
        Instance b = Instance.start(redis, prefix, false, c -> c, r -> r.listener(lagListener));
        open.add(b);
        StreamClient.Conn onB = b.subscribe("lag");
        for (int i = 0; i < 5; i++) {
            a.publish("lag", "e" + i);
        }
        onB.awaitEvents(5, WAIT);
        assertThat(lags).hasSize(5).allSatisfy(lag -> assertThat(lag).isBetween(Duration.ZERO, WAIT));
        ClusterStats stats = b.registry.clusterStats().orElseThrow();
        assertThat(stats.connected()).isTrue();
        assertThat(stats.position()).isEqualTo(onB.lastEventId());
        assertThat(stats.resets()).isZero();
        assertThat(stats.details()).containsEntry("bus", prefix + "bus").containsKey("redis");
        assertThat(a.registry.clusterStats()).isPresent();
    }

    @Test
    void aClientCutOnOneInstanceResumesOnTheOtherWithNoGapAndNoDuplicate() throws Exception {
        Instance[] ab = twoInstances();
        StreamClient.Conn first = ab[0].subscribe("feed");
        for (int i = 0; i < 3; i++) {
            ab[0].registry.publish("feed", "e" + i);
        }
        List<Event> seen = first.awaitEvents(3, WAIT);
        first.close();
        // Published while the client is away, on the instance it will come back to.
        for (int i = 3; i < 8; i++) {
            ab[1].publish("feed", "e" + i);
        }

        StreamClient.Conn back = ab[1].subscribe("feed", "Last-Event-ID: " + seen.get(2).lastEventId());
        assertThat(data(back.awaitEvents(5, WAIT))).containsExactly("e3", "e4", "e5", "e6", "e7");
        ab[1].registry.publish("feed", "e8");
        assertThat(data(back.awaitEvents(6, WAIT))).endsWith("e8").doesNotHaveDuplicates();
    }
}
