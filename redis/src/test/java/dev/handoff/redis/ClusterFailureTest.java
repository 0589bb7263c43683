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
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What an instance does when Redis may have lost events meant for it: its subscribers are told with a
 * {@code reset} (never a silent gap), and it goes on with what comes next.
 */
class ClusterFailureTest {

    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final AtomicInteger APPS = new AtomicInteger();

    private final List<AutoCloseable> open = new ArrayList<>();

    private record Node(StreamRegistry registry, RedisCluster cluster, StreamClient client) {
    }

    private Node node(String prefix, long busLength, boolean jetty) throws Exception {
        RedisCluster cluster = RedisCluster.builder(redis.uri()).keyPrefix(prefix).busLength(busLength).build();
        StreamRegistry registry = StreamRegistry.builder().cluster(cluster).shutdown(Duration.ofSeconds(1), null)
                .build();
        TestApp app = new TestApp().route("/sse", (req, resp) -> registry.subscribe(req, req.getParameter("topic")));
        TestServer server = jetty ? JettyTestServer.start(app) : TomcatTestServer.start(app);
        StreamClient client = new StreamClient(server.port());
        open.add(client);
        open.add(server);
        open.add(registry);
        return new Node(registry, cluster, client);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    @Test
    void anInstanceWhoseBusWasTrimmedPastItsPositionTellsItsSubscribersToReset() throws Exception {
        String prefix = "trim" + APPS.incrementAndGet() + ":";
        Node a = node(prefix, 10, true);
        Node b = node(prefix, 10, false);
        StreamClient.Conn onB = b.client().get("/sse?topic=t");
        awaitOpen(b);
        a.registry().publishAsync("t", SseEvent.of("before")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        onB.awaitEvents(1, WAIT);

        // B's bus reader loses its connection; while it is away, A publishes far more than the bus keeps.
        killConnectionsNamed(b.cluster().readerName());
        List<CompletableFuture<String>> sent = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            sent.add(a.registry().publishAsync("t", SseEvent.of("e" + i)).toCompletableFuture());
        }
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

        Event reset = awaitEventNamed(onB, StreamRegistry.RESET_EVENT);
        assertThat(reset.data()).isEqualTo("t");
        // What B delivers after the reset is in order and ends with the last event published.
        a.registry().publishAsync("t", SseEvent.of("after")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        List<Event> all = onB.awaitEvents(3, WAIT);
        awaitData(onB, "after");
        List<Event> events = onB.events();
        List<String> afterReset = events.subList(events.indexOf(reset) + 1, events.size()).stream()
                .filter(e -> !StreamRegistry.RESET_EVENT.equals(e.type())).map(Event::data).toList();
        // Every gap is announced (a reset before what follows it); what arrives is never duplicated.
        assertThat(afterReset).endsWith("after").doesNotHaveDuplicates();
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
        assertThat(all.get(0).data()).isEqualTo("before");
    }

    @Test
    void anInstanceWhoseRedisRestartedEmptyResetsItsSubscribersAndGoesOn() throws Exception {
        String prefix = "restart" + APPS.incrementAndGet() + ":";
        Node a = node(prefix, 10_000, true);
        Node b = node(prefix, 10_000, false);
        StreamClient.Conn onB = b.client().get("/sse?topic=r");
        awaitOpen(b);
        String before = a.registry().publishAsync("r", SseEvent.of("before")).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        onB.awaitEvents(1, WAIT);

        redis.restartEmpty();

        Event reset = awaitEventNamed(onB, StreamRegistry.RESET_EVENT);
        assertThat(reset.data()).isEqualTo("r");
        // Publishing works again once the instance reconnected; the stream stayed open throughout.
        publishUntilTaken(a.registry(), "r", "after");
        awaitData(onB, "after");
        // An id from before the restart is from a lost history: a client that comes back with it is told so.
        StreamClient.Conn back = b.client().get("/sse?topic=r", "Last-Event-ID: " + before);
        assertThat(back.awaitEvents(1, WAIT).get(0).type()).isEqualTo(StreamRegistry.RESET_EVENT);
    }

    private static void publishUntilTaken(StreamRegistry registry, String topic, String data) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                registry.publishAsync(topic, SseEvent.of(data)).toCompletableFuture().get(5, TimeUnit.SECONDS);
                return;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("Redis did not take a publish within " + WAIT, notYet);
                }
                Thread.sleep(100);
            }
        }
    }

    private static void killConnectionsNamed(String name) {
        RedisClient client = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            String list = c.sync().clientList();
            int killed = 0;
            for (String line : list.split("\n")) {
                if (line.contains(" name=" + name + " ")) {
                    String id = line.substring(line.indexOf("id=") + 3, line.indexOf(' ', line.indexOf("id=")));
                    c.sync().clientKill(io.lettuce.core.KillArgs.Builder.id(Long.parseLong(id)));
                    killed++;
                }
            }
            assertThat(killed).as("connections named " + name + " in " + list).isEqualTo(1);
        } finally {
            client.shutdown();
        }
    }

    private static Event awaitEventNamed(StreamClient.Conn conn, String type) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (Event e : conn.events()) {
                if (type.equals(e.type())) {
                    return e;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no '" + type + "' event within " + WAIT + "; got " + conn.events());
    }

    private static void awaitData(StreamClient.Conn conn, String data) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (data(conn.events()).stream().noneMatch(data::equals)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no event with data '" + data + "' within " + WAIT + "; got "
                        + conn.events().size() + " events");
            }
            Thread.sleep(20);
        }
    }

    private static List<String> data(List<Event> events) {
        return events.stream().map(Event::data).toList();
    }

    private static void awaitOpen(Node n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (n.registry().openStreams() < 1) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no stream open within " + WAIT);
            }
            Thread.sleep(10);
        }
    }
}
