package dev.handoff.redis;

import static dev.handoff.redis.Instance.WAIT;
import static dev.handoff.redis.Instance.awaitData;
import static dev.handoff.redis.Instance.awaitEventNamed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.registry.ClusterRefusedException;
import dev.handoff.registry.ClusterStats;
import dev.handoff.registry.StreamRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Redis that keeps its data (an append-only file, synced on every write): a restart costs no reset, and a Redis
 * that is down for a while and comes back is where local delivery shows what it promises.
 */
class ClusterPersistenceTest {

    @RegisterExtension
    static final RedisServer redis = new RedisServer(true);

    private final List<Instance> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (Instance i : open) {
            i.close();
        }
    }

    @Test
    void afterARestartWithItsDataTheInstancesGoOnWithNoResetAndResumeStillWorks() throws Exception {
        Instance a = Instance.start(redis, "aof:", true);
        open.add(a);
        Instance b = Instance.start(redis, "aof:", false);
        open.add(b);
        StreamClient.Conn onB = b.subscribe("d");
        String first = a.publish("d", "before");
        onB.awaitEvents(1, WAIT);

        redis.restart();

        a.publishUntilTaken("d", "after");
        awaitData(onB, "after");
        assertThat(onB.events()).extracting(Event::type).doesNotContain(StreamRegistry.RESET_EVENT);
        // The epoch survived: an id from before the restart still resumes, on either instance.
        StreamClient.Conn back = a.subscribe("d", "Last-Event-ID: " + first);
        assertThat(Instance.data(back.awaitEvents(1, WAIT))).containsExactly("after");
    }

    @Test
    void withLocalDeliveryAPublishRedisRefusedReachesThisInstanceAndTheTopicIsResetEverywhereOnceRedisIsBack()
            throws Exception {
        Instance a = Instance.start(redis, "local:", true, c -> c.commandTimeout(Duration.ofSeconds(1)),
                r -> r.deliverLocallyWhenClusterFails(true));
        open.add(a);
        Instance b = Instance.start(redis, "local:", false);
        open.add(b);
        StreamClient.Conn onA = a.subscribe("l");
        StreamClient.Conn onB = b.subscribe("l");
        String before = a.publish("l", "before");
        onA.awaitEvents(1, WAIT);
        onB.awaitEvents(1, WAIT);

        redis.down();
        try {
            a.awaitClusterStats(s -> !s.connected(), "the cluster seen as disconnected while Redis is down");
            String localId = a.publish("l", "only on A");
            awaitData(onA, "only on A");
            assertThat(onA.events().get(1).lastEventId()).isEqualTo(localId).doesNotContain("_");
            ClusterStats stats = a.registry.clusterStats().orElseThrow();
            assertThat(stats.publishFailures()).isEqualTo(1);
            assertThat(stats.localDeliveries()).isEqualTo(1);
            assertThat(stats.unsharedTopics()).isEqualTo(1);
            // Without local delivery, B's publish fails, and says why.
            assertThatThrownBy(() -> b.publish("l", "refused")).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(ClusterRefusedException.class);
        } finally {
            redis.up();
        }

        // Once Redis takes publishes again, the topic's reset goes through it: every instance's subscribers, and
        // every resume from before, learn that the topic missed events.
        for (StreamClient.Conn conn : List.of(onA, onB)) {
            assertThat(awaitEventNamed(conn, StreamRegistry.RESET_EVENT).data()).isEqualTo("l");
        }
        assertThat(Instance.data(onB.events())).doesNotContain("only on A", "refused");
        a.awaitClusterStats(s -> s.connected() && s.unsharedTopics() == 0 && s.reconnects() >= 1,
                "connected again, the reset shared, a reconnect counted");
        StreamClient.Conn resumed = b.subscribe("l", "Last-Event-ID: " + before);
        assertThat(awaitEventNamed(resumed, StreamRegistry.RESET_EVENT).data()).isEqualTo("l");
    }

}
