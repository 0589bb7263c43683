package dev.handoff.redis;

import dev.handoff.core.SseEvent;
import dev.handoff.core.support.JettyTestServer;
import dev.handoff.core.support.SseParser.Event;
import dev.handoff.core.support.StreamClient;
import dev.handoff.core.support.TestApp;
import dev.handoff.core.support.TestServer;
import dev.handoff.core.support.TomcatTestServer;
import dev.handoff.registry.ClusterStats;
import dev.handoff.registry.StreamRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * One instance of an application for the cluster tests: a registry on the shared Redis, {@code /sse?topic=} on an
 * embedded container of its own (Jetty or Tomcat), and a client for it. Every wait has a deadline.
 */
final class Instance implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(15);

    final StreamRegistry registry;
    final RedisCluster cluster;
    final TestServer server;
    final StreamClient client;

    private Instance(StreamRegistry registry, RedisCluster cluster, TestServer server, StreamClient client) {
        this.registry = registry;
        this.cluster = cluster;
        this.server = server;
        this.client = client;
    }

    static Instance start(RedisServer redis, String prefix, boolean jetty) throws Exception {
        return start(redis, prefix, jetty, UnaryOperator.identity());
    }

    static Instance start(RedisServer redis, String prefix, boolean jetty, UnaryOperator<RedisCluster.Builder> settings)
            throws Exception {
        return start(redis, prefix, jetty, settings, UnaryOperator.identity());
    }

    /** An instance with cluster and registry settings of its own; {@code /sse?topic=a&topic=b} follows both. */
    static Instance start(RedisServer redis, String prefix, boolean jetty, UnaryOperator<RedisCluster.Builder> settings,
            UnaryOperator<StreamRegistry.Builder> registrySettings) throws Exception {
        RedisCluster cluster = settings.apply(RedisCluster.builder(redis.uri()).keyPrefix(prefix)).build();
        StreamRegistry registry = registrySettings.apply(StreamRegistry.builder().cluster(cluster)
                .shutdown(Duration.ofSeconds(1), null)).build();
        TestApp app = new TestApp().route("/sse", (req, resp) -> registry.subscribe(req, req.getParameterValues("topic")));
        TestServer server = jetty ? JettyTestServer.start(app) : TomcatTestServer.start(app);
        return new Instance(registry, cluster, server, new StreamClient(server.port()));
    }

    /** Opens {@code /sse?topic=} and waits until the registry holds one more stream. */
    StreamClient.Conn subscribe(String topic, String... headers) throws Exception {
        int before = registry.openStreams();
        StreamClient.Conn conn = client.get("/sse?topic=" + topic, headers);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (registry.openStreams() <= before) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no stream opened on " + server.name() + " within " + WAIT);
            }
            Thread.sleep(10);
        }
        return conn;
    }

    /** Waits, within the deadline, until the cluster's stats say {@code done}. */
    void awaitClusterStats(Predicate<ClusterStats> done, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.test(registry.clusterStats().orElseThrow())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + WAIT + " for " + what + "; stats: "
                        + registry.clusterStats().orElseThrow());
            }
            Thread.sleep(20);
        }
    }

    /** Publishes and waits until the cluster took the event; returns its id. */
    String publish(String topic, String data) throws Exception {
        return registry.publishAsync(topic, SseEvent.of(data)).toCompletableFuture().get(WAIT.toSeconds(),
                TimeUnit.SECONDS);
    }

    /** Publishes until the cluster takes it (Redis coming back), within the deadline. */
    String publishUntilTaken(String topic, String data) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                return registry.publishAsync(topic, SseEvent.of(data)).toCompletableFuture().get(5, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("Redis did not take a publish within " + WAIT, notYet);
                }
                Thread.sleep(100);
            }
        }
    }

    @Override
    public void close() throws Exception {
        registry.close();
        server.close();
        client.close();
    }

    static List<String> data(List<Event> events) {
        return events.stream().map(Event::data).toList();
    }

    static Event awaitEventNamed(StreamClient.Conn conn, String type) throws InterruptedException {
        conn.awaitCondition(c -> c.events().stream().anyMatch(e -> type.equals(e.type())), WAIT,
                "a '" + type + "' event");
        return conn.events().stream().filter(e -> type.equals(e.type())).findFirst().orElseThrow();
    }

    static void awaitData(StreamClient.Conn conn, String data) throws InterruptedException {
        conn.awaitCondition(c -> c.events().stream().anyMatch(e -> data.equals(e.data())), WAIT,
                "an event with data '" + data + "'");
    }
}
