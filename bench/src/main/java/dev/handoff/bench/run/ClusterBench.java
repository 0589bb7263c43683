package dev.handoff.bench.run;

import dev.handoff.bench.client.LoadClient;
import dev.handoff.bench.client.Round;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Handoff on two nodes of one cluster (a real {@code redis-server} in a process of its own, two bench servers with
 * {@code --handoff.cluster.enabled=true}), beside the same server alone, in one run:
 * <ul>
 * <li>fan-out: {@code streams} streams (half on each node), rounds of events published on node A; every
 * (stream, event) latency from the publish request to the client's receipt, p50/p99 over both nodes, the nodes'
 * CPU and Redis's;</li>
 * <li>publish throughput: {@code burst} events published in one request on node A, one stream per node, until
 * both got the last one: events per second through Redis and back.</li>
 * </ul>
 *
 * <pre>
 * bench/run cluster                                   # handoff-jetty, 10,000 streams (about 3 minutes here)
 * bench/run cluster --servers=handoff-tomcat --streams=4000
 * </pre>
 */
public final class ClusterBench {

    private static final int ROUNDS = 10;
    private static final int EVENTS = 5;
    private static final int SIZE = 256;
    private static final Duration ROUND_DEADLINE = Duration.ofSeconds(30);

    private ClusterBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Bench.options(args, "--servers=a,b --out=dir --java=path --streams=N --burst=N");
        List<String> servers = Arrays.asList(options.getOrDefault("servers", "handoff-jetty").split(","));
        for (String s : servers) {
            if (!s.startsWith("handoff-")) {
                throw new IllegalArgumentException("only Handoff's servers join a cluster: " + s);
            }
        }
        Path out = Path.of(options.getOrDefault("out", "bench/results/cluster"));
        String java = options.getOrDefault("java", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        int streams = Integer.parseInt(options.getOrDefault("streams", "10000"));
        // At most the cluster's pending publishes (10,000 by default): a larger burst would be refused in part.
        int burst = Integer.parseInt(options.getOrDefault("burst", "5000"));
        Files.createDirectories(out);
        List<String> rows = new ArrayList<>();
        try (Redis redis = Redis.start(out.resolve("logs"))) {
            int n = 0;
            for (String server : servers) {
                FanOut single = null;
                Throughput singleRate = null;
                for (boolean cluster : new boolean[] {false, true}) {
                    String label = server + (cluster ? ", two nodes" : ", one node");
                    System.out.println("== " + label);
                    Path logs = out.resolve("logs").resolve(server + (cluster ? "-cluster" : "-single"));
                    // A ring (and a Redis log) that holds the whole throughput burst: a stream that falls behind
                    // reads on from it instead of being reset, on one node as on two.
                    List<String> settings = new ArrayList<>(List.of("--handoff.replay.events=" + (2 * burst)));
                    if (cluster) {
                        settings.addAll(List.of("--handoff.cluster.enabled=true", "--handoff.cluster.redis-url="
                                + redis.uri(), "--handoff.cluster.key-prefix=bench" + n++ + ":"));
                    }
                    List<ServerProcess> nodes = new ArrayList<>();
                    try {
                        nodes.add(ServerProcess.start(server, "dev.handoff.bench.server.ServerMain", settings, java,
                                logs.resolve("a")));
                        if (cluster) {
                            nodes.add(ServerProcess.start(server, "dev.handoff.bench.server.ServerMain", settings, java,
                                    logs.resolve("b")));
                        }
                        FanOut f = fanOut(nodes, streams, redis);
                        Throughput t = throughput(nodes, burst);
                        if (!cluster) {
                            single = f;
                            singleRate = t;
                        }
                        rows.add(f.row(label, single));
                        rows.add(t.row(label, burst, singleRate));
                    } finally {
                        for (ServerProcess p : nodes) {
                            p.close();
                        }
                    }
                }
            }
        }
        String report = "# Handoff on two nodes of one cluster, against one node\n\n"
                + ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME) + "; " + Runtime.getRuntime()
                .availableProcessors() + " cores; servers on " + java + "; Redis " + redisVersion() + " on loopback\n\n"
                + "| run | what | result |\n|---|---|---|\n" + String.join("\n", rows) + "\n";
        Files.writeString(out.resolve("results.md"), report);
        System.out.println(report);
    }

    /** What a fan-out run measured. */
    private record FanOut(int open, int rounds, double p50, double p99, double max, long deliveries, String cpu,
            double cpuPerDelivery, double redisCpu, String note) {
        String row(String label, FanOut single) {
            String ratio = single == null || single == this ? "" : String.format(Locale.ROOT,
                    " (%.2fx, %.2fx and %.2fx the CPU per delivery of one node)", p50 / single.p50, p99 / single.p99,
                    cpuPerDelivery / single.cpuPerDelivery);
            return String.format(Locale.ROOT, "| %s | fan-out: %d streams open, %d rounds of %d events of %d B published "
                            + "on node A | p50 %.1f ms, p99 %.1f ms%s, max %.1f ms over %d deliveries; CPU %s; Redis CPU "
                            + "%.2f s%s |", label, open, rounds, EVENTS, SIZE, p50, p99, ratio, max, deliveries, cpu, redisCpu,
                    note);
        }
    }

    /** What a throughput run measured. */
    private record Throughput(boolean all, double seconds, double requestSeconds) {
        String row(String label, int burst, Throughput single) {
            String ratio = single == null || single == this ? "" : String.format(Locale.ROOT, " (%.2fx one node's)",
                    single.seconds / seconds);
            return String.format(Locale.ROOT, "| %s | throughput: %d events of %d B in one request on node A, one "
                            + "stream per node | %s in %.2f s: %.0f events/s%s (the request itself: %.2f s) |", label, burst,
                    SIZE, all ? "every stream had the last" : "NOT every stream had the last", seconds, burst / seconds,
                    ratio, requestSeconds);
        }
    }

    /** Streams spread over the nodes; rounds published on the first; latency over all of them, CPU of each. */
    private static FanOut fanOut(List<ServerProcess> nodes, int streams, Redis redis) throws Exception {
        List<LoadClient> clients = new ArrayList<>();
        try {
            for (ServerProcess node : nodes) {
                LoadClient c = new LoadClient(new InetSocketAddress("127.0.0.1", node.port), 4, "/sse");
                clients.add(c);
                c.ramp(streams / nodes.size(), Math.min(Scenario.RAMP_PER_SECOND, streams), 0);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(streams / Scenario.RAMP_PER_SECOND + 60).toNanos();
            while (established(clients) < streams && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            int open = established(clients);
            Control publisher = nodes.get(0).control;
            long[] cpuStart = new long[nodes.size()];
            double redisCpuStart = 0;
            long[] latencies = new long[0];
            int counted = 0;
            String note = "";
            for (int round = 0; round <= ROUNDS; round++) {
                if (round == 1) {
                    for (int i = 0; i < nodes.size(); i++) {
                        cpuStart[i] = nodes.get(i).control.stats(false).cpuNanos();
                    }
                    redisCpuStart = redis.cpuSeconds();
                }
                int healthy = 0;
                for (LoadClient c : clients) {
                    healthy += c.healthyOpen();
                }
                long sent = System.nanoTime();
                long[] range = publisher.publish(EVENTS, SIZE, ROUND_DEADLINE);
                long until = sent + ROUND_DEADLINE.toNanos();
                while (reached(clients, range[1]) < healthy && System.nanoTime() < until) {
                    Thread.sleep(2);
                }
                int reached = reached(clients, range[1]);
                if (round > 0) {
                    for (LoadClient c : clients) {
                        Round r = c.collect(range[0], range[1], sent);
                        long[] more = r.latencies();
                        latencies = Arrays.copyOf(latencies, latencies.length + more.length);
                        System.arraycopy(more, 0, latencies, latencies.length - more.length, more.length);
                    }
                    counted++;
                }
                if (reached < healthy) {
                    note = "; round " + round + ": " + reached + " of " + healthy + " streams got the last event within "
                            + ROUND_DEADLINE.toSeconds() + " s";
                    break;
                }
            }
            StringBuilder cpu = new StringBuilder();
            long events = (long) counted * EVENTS * open;
            long total = 0;
            for (int i = 0; i < nodes.size(); i++) {
                long used = nodes.get(i).control.stats(false).cpuNanos() - cpuStart[i];
                total += used;
                cpu.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "node %s %.2f s (%.2f us per delivery)",
                        (char) ('A' + i), used / 1e9, events == 0 ? Double.NaN : used / 1e3 / events));
            }
            double redisCpu = redis.cpuSeconds() - redisCpuStart;
            long[] sorted = Result.sorted(latencies);
            return new FanOut(open, counted, Result.percentileMillis(sorted, 50), Result.percentileMillis(sorted, 99),
                    Result.percentileMillis(sorted, 100), sorted.length, cpu.toString(),
                    events == 0 ? Double.NaN : total / 1e3 / events, redisCpu, note);
        } finally {
            for (LoadClient c : clients) {
                c.close();
            }
        }
    }

    /** One stream per node; {@code burst} events in one request on the first node, until every stream has the last. */
    private static Throughput throughput(List<ServerProcess> nodes, int burst) throws Exception {
        List<LoadClient> clients = new ArrayList<>();
        try {
            for (ServerProcess node : nodes) {
                LoadClient c = new LoadClient(new InetSocketAddress("127.0.0.1", node.port), 1, "/sse");
                clients.add(c);
                c.ramp(1, 1, 0);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (established(clients) < nodes.size() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            long sent = System.nanoTime();
            long[] range = nodes.get(0).control.publish(burst, SIZE, ROUND_DEADLINE);
            long until = sent + ROUND_DEADLINE.toNanos();
            while (reached(clients, range[1]) < nodes.size() && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            double seconds = (System.nanoTime() - sent) / 1e9;
            return new Throughput(reached(clients, range[1]) == nodes.size(), seconds, range[2] / 1e9);
        } finally {
            for (LoadClient c : clients) {
                c.close();
            }
        }
    }

    private static int established(List<LoadClient> clients) {
        int n = 0;
        for (LoadClient c : clients) {
            n += c.established.get();
        }
        return n;
    }

    private static int reached(List<LoadClient> clients, long seq) throws Exception {
        int n = 0;
        for (LoadClient c : clients) {
            n += c.reached(seq);
        }
        return n;
    }

    private static String redisVersion() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Redis.BINARY, "--version").redirectErrorStream(true).start();
        String v = new String(p.getInputStream().readAllBytes()).trim();
        p.waitFor(5, TimeUnit.SECONDS);
        return v.replaceFirst("^Redis server v=(\\S+).*$", "$1");
    }

    /** A {@code redis-server} on a free loopback port with no persistence, in a temporary folder. */
    private static final class Redis implements AutoCloseable {
        static final String BINARY = "/usr/bin/redis-server";
        private final Process process;
        private final int port;
        private final RedisClient client;
        private final StatefulRedisConnection<String, String> connection;

        private Redis(Process process, int port, RedisClient client, StatefulRedisConnection<String, String> connection) {
            this.process = process;
            this.port = port;
            this.client = client;
            this.connection = connection;
        }

        static Redis start(Path logs) throws Exception {
            if (!Files.isExecutable(Path.of(BINARY))) {
                throw new IllegalStateException("the cluster bench needs redis-server (Debian: apt-get install redis-server)");
            }
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            Path dir = Files.createTempDirectory("handoff-bench-redis");
            Files.createDirectories(logs);
            Process p = new ProcessBuilder(BINARY, "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", dir.toString(), "--maxmemory-policy", "noeviction").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve("redis.log").toFile())).start();
            RedisClient client = RedisClient.create("redis://127.0.0.1:" + port);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    return new Redis(p, port, client, client.connect());
                } catch (RuntimeException notYet) {
                    if (!p.isAlive()) {
                        client.shutdown();
                        throw new IOException("redis-server exited with " + p.exitValue() + "; see " + logs);
                    }
                    p.waitFor(100, TimeUnit.MILLISECONDS);
                }
            }
            client.shutdown();
            p.destroyForcibly();
            throw new IOException("redis-server did not start within 10 s");
        }

        String uri() {
            return "redis://127.0.0.1:" + port;
        }

        /** Redis's CPU time so far (user and system), from {@code INFO cpu}. */
        double cpuSeconds() {
            double total = 0;
            for (String line : connection.sync().info("cpu").split("\r?\n")) {
                if (line.startsWith("used_cpu_user:") || line.startsWith("used_cpu_sys:")) {
                    total += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
                }
            }
            return total;
        }

        @Override
        public void close() throws Exception {
            connection.close();
            client.shutdown();
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
