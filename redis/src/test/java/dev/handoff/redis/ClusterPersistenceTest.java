package dev.handoff.redis;

import static dev.handoff.redis.Instance.WAIT;
import static dev.handoff.redis.Instance.awaitData;
import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.registry.StreamRegistry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A Redis that keeps its data (an append-only file, synced on every write) restarts without costing a reset. */
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
}
