package dev.handoff.redis;

import static dev.handoff.redis.Instance.WAIT;
import static dev.handoff.redis.Instance.awaitData;
import static dev.handoff.redis.Instance.awaitEventNamed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.core.SseEvent;
import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.registry.StreamRegistry;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What an instance does when Redis fails it: a publish fails instead of waiting or piling up, streams stay open,
 * and where events meant for it may be gone its subscribers are told with a {@code reset}, never a silent gap.
 */
class ClusterFailureTest {

    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    private static final AtomicInteger APPS = new AtomicInteger();

    private final List<Instance> open = new ArrayList<>();

    private Instance start(String prefix, boolean jetty, long busLength) throws Exception {
        Instance i = Instance.start(redis, prefix, jetty, b -> b.busLength(busLength).commandTimeout(Duration.ofSeconds(1)));
        open.add(i);
        return i;
    }

    /** A on Jetty and B on Tomcat, a subscriber of {@code topic} on B that got A's first event ({@code firstId}). */
    private record Running(Instance a, Instance b, StreamClient.Conn onB, String firstId) {
    }

    private Running running(String name, long busLength, String topic) throws Exception {
        String prefix = name + APPS.incrementAndGet() + ":";
        Instance a = start(prefix, true, busLength);
        Instance b = start(prefix, false, busLength);
        StreamClient.Conn onB = b.subscribe(topic);
        String first = a.publish(topic, "before");
        onB.awaitEvents(1, WAIT);
        return new Running(a, b, onB, first);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (Instance i : open) {
            i.close();
        }
    }

    @Test
    void anInstanceWhoseBusWasTrimmedPastItsPositionTellsItsSubscribersToReset() throws Exception {
        Running run = running("trim", 10, "t");
        Instance a = run.a();
        Instance b = run.b();
        StreamClient.Conn onB = run.onB();

        // B's bus reader loses its connection; while it is away, A publishes far more than the bus keeps.
        killConnectionsNamed(b.cluster.readerName());
        List<CompletableFuture<String>> sent = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            sent.add(a.registry.publishAsync("t", SseEvent.of("e" + i)).toCompletableFuture());
        }
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

        Event reset = awaitEventNamed(onB, StreamRegistry.RESET_EVENT);
        assertThat(reset.data()).isEqualTo("t");
        a.publish("t", "after");
        awaitData(onB, "after");
        List<Event> events = onB.events();
        assertThat(events.get(0).data()).isEqualTo("before");
        List<String> afterReset = events.subList(events.indexOf(reset) + 1, events.size()).stream()
                .filter(e -> !StreamRegistry.RESET_EVENT.equals(e.type())).map(Event::data).toList();
        assertThat(afterReset).endsWith("after").doesNotHaveDuplicates();
        // Every jump in the sequence comes after a reset: nothing is skipped silently.
        int previous = -1;
        boolean resetSince = true;
        for (Event e : events) {
            if (StreamRegistry.RESET_EVENT.equals(e.type())) {
                resetSince = true;
            } else if (e.data().startsWith("e")) {
                int n = Integer.parseInt(e.data().substring(1));
                assertThat(n == previous + 1 || resetSince).as("e%d after e%d with no reset between", n, previous)
                        .isTrue();
                previous = n;
                resetSince = false;
            }
        }
    }

    @Test
    void aPublishConnectionCutWithPublishesInFlightDeliversEachEventAtMostOnceAndPublishingComesBack() throws Exception {
        Running run = running("once", 100_000, "o");
        Instance a = run.a();
        StreamClient.Conn onB = run.onB();
        List<CompletableFuture<String>> sent = new ArrayList<>();
        RedisClient admin = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> c = admin.connect()) {
            long id = clientIdNamed(c, a.cluster.commandsName());
            CompletableFuture<Long> killed = null;
            for (int i = 0; i < 2000; i++) {
                sent.add(a.registry.publishAsync("o", SseEvent.of("e" + i)).toCompletableFuture());
                if (i == 300) {
                    // Cut while this thread goes on publishing: some publishes are on their way, some answered (at
                    // least the first: without waiting for it, Redis could read the kill before any of them).
                    sent.get(0).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                    killed = c.async().clientKill(KillArgs.Builder.id(id)).toCompletableFuture();
                }
            }
            assertThat(killed.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1);
        } finally {
            admin.shutdown();
        }
        List<String> taken = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            try {
                sent.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                taken.add("e" + i);
            } catch (ExecutionException failed) {
                // Refused, or unknown: at most once either way.
            }
        }
        assertThat(taken.size()).as("publishes Redis took: some, not all").isLessThan(2000).isPositive();
        a.publishUntilTaken("o", "after");
        awaitData(onB, "after");
        List<String> seen = Instance.data(onB.events());
        assertThat(seen).as("no event twice").doesNotHaveDuplicates().containsAll(taken);
    }

    @Test
    void anInstanceWhoseRedisRestartedEmptyResetsItsSubscribersAndGoesOn() throws Exception {
        Running run = running("restart", 10_000, "r");
        Instance a = run.a();
        Instance b = run.b();
        StreamClient.Conn onB = run.onB();
        String before = run.firstId();

        redis.restartEmpty();

        Event reset = awaitEventNamed(onB, StreamRegistry.RESET_EVENT);
        assertThat(reset.data()).isEqualTo("r");
        // Publishing works again once the instance reconnected; the stream stayed open throughout.
        a.publishUntilTaken("r", "after");
        awaitData(onB, "after");
        // An id from before the restart is from a lost history: a client that comes back with it is told so.
        StreamClient.Conn back = b.subscribe("r", "Last-Event-ID: " + before);
        assertThat(back.awaitEvents(1, WAIT).get(0).type()).isEqualTo(StreamRegistry.RESET_EVENT);
    }

    @Test
    void aRedisThatCameBackFromAnOlderSnapshotStartsANewEpochSoNoIdIsIssuedTwice() throws Exception {
        Running run = running("snapshot", 10_000, "s");
        Instance a = run.a();
        Instance b = run.b();
        StreamClient.Conn onB = run.onB();
        RedisClient admin = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> c = admin.connect()) {
            c.sync().save();
        } finally {
            admin.shutdown();
        }
        String lostId = a.publish("s", "after the snapshot");
        awaitData(onB, "after the snapshot");

        redis.restart(); // Loads the snapshot: the last event, and the bus entries it counted, are gone.

        Event reset = awaitEventNamed(onB, StreamRegistry.RESET_EVENT);
        assertThat(reset.data()).isEqualTo("s");
        // Once an instance has found the older history and started a new epoch in Redis, every publish, from any
        // instance, is numbered in it, whether or not that instance's reader has seen the restore yet (A's publishes
        // were numbered in the epoch A had last read, and their ids differed from the ones B delivered).
        b.awaitClusterStats(stats -> !epochOf(lostId).equals(stats.details().get("epoch")), "instance B in a new epoch");
        String next = a.publishUntilTaken("s", "new history");
        awaitData(onB, "new history");
        assertThat(epochOf(next)).isNotEqualTo(epochOf(lostId));
        // An id from the history Redis lost is not taken for one of the new: the client is told to reload.
        StreamClient.Conn back = b.subscribe("s", "Last-Event-ID: " + lostId);
        assertThat(back.awaitEvents(1, WAIT).get(0).type()).isEqualTo(StreamRegistry.RESET_EVENT);
    }

    private static String epochOf(String id) {
        return id.substring(0, id.indexOf('_'));
    }

    @Test
    void whileRedisIsPausedAPublishFailsWithinTheTimeoutAndAfterwardsNothingIsLost() throws Exception {
        Running run = running("pause", 10_000, "p");
        Instance a = run.a();
        Instance b = run.b();
        StreamClient.Conn onB = run.onB();

        redis.pause();
        long started = System.nanoTime();
        try {
            CompletableFuture<String> stuck = a.registry.publishAsync("p", SseEvent.of("lost")).toCompletableFuture();
            assertThatThrownBy(() -> stuck.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("timed out");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
            assertThat(b.registry.openStreams()).as("streams stay open while Redis is away").isEqualTo(1);
        } finally {
            redis.resume();
        }

        a.publishUntilTaken("p", "after");
        awaitData(onB, "after");
        // A paused Redis lost nothing: no reset, and the stream goes on in order.
        assertThat(onB.events()).extracting(Event::type).doesNotContain(StreamRegistry.RESET_EVENT);
        assertThat(Instance.data(onB.events())).startsWith("before").endsWith("after");
    }

    @Test
    void atItsMemoryLimitRedisRefusesPublishesWithAClearFailureAndTheInstancesGoOnReading() throws Exception {
        Running run = running("full", 10_000, "m");
        String big = "x".repeat(16 * 1024);
        RedisClient admin = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> c = admin.connect()) {
            c.sync().configSet("maxmemory-policy", "noeviction");
            c.sync().configSet("maxmemory", Long.toString(usedMemory(c) + 512 * 1024));
            try {
                Throwable refused = null;
                int taken = 0;
                for (int i = 0; i < 200 && refused == null; i++) {
                    try {
                        run.a().publish("m", big);
                        taken++;
                    } catch (ExecutionException e) {
                        refused = e.getCause();
                    }
                }
                assertThat(refused).as("a publish refused once Redis is full").isNotNull();
                assertThat(refused).hasMessageContaining("OOM");
                // While Redis is still full, everything it took reaches the other instance: the reader only reads.
                assertThat(run.onB().awaitEvents(1 + taken, WAIT)).hasSize(1 + taken);
            } finally {
                c.sync().configSet("maxmemory", "0");
            }
        } finally {
            admin.shutdown();
        }
        run.a().publish("m", "after");
        awaitData(run.onB(), "after");
        assertThat(run.onB().events()).extracting(Event::type).doesNotContain(StreamRegistry.RESET_EVENT);
    }

    private static long usedMemory(StatefulRedisConnection<String, String> c) {
        for (String line : c.sync().info("memory").split("\r?\n")) {
            if (line.startsWith("used_memory:")) {
                return Long.parseLong(line.substring("used_memory:".length()).trim());
            }
        }
        throw new IllegalStateException("no used_memory in INFO memory");
    }

    private static long clientIdNamed(StatefulRedisConnection<String, String> c, String name) {
        for (String line : c.sync().clientList().split("\n")) {
            if (line.contains(" name=" + name + " ")) {
                return Long.parseLong(line.substring(line.indexOf("id=") + 3, line.indexOf(' ', line.indexOf("id="))));
            }
        }
        throw new AssertionError("no connection named " + name);
    }

    private static void killConnectionsNamed(String name) {
        RedisClient client = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            String list = c.sync().clientList();
            int killed = 0;
            for (String line : list.split("\n")) {
                if (line.contains(" name=" + name + " ")) {
                    String id = line.substring(line.indexOf("id=") + 3, line.indexOf(' ', line.indexOf("id=")));
                    c.sync().clientKill(KillArgs.Builder.id(Long.parseLong(id)));
                    killed++;
                }
            }
            assertThat(killed).as("connections named " + name + " in " + list).isEqualTo(1);
        } finally {
            client.shutdown();
        }
    }
}
