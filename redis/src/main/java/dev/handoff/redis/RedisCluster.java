package dev.handoff.redis;

import dev.handoff.core.SseEvent;
import dev.handoff.registry.Cluster;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Cluster} on Redis Streams: every instance appends its publishes to one bus stream ({@code XADD}, trimmed
 * to about {@code busLength} entries), and reads every entry after the last one it saw with {@code XREAD BLOCK} on a
 * connection of its own (a blocking read on a shared connection would stall every other command). Redis gives the
 * bus one order, so every instance delivers each topic's events in the same order, whoever published them.
 *
 * <p>An event's id is {@code <epoch>_<entry id>}: the epoch is a random value kept in Redis (set once, by the first
 * instance), which changes when Redis lost its data, so that an id from a lost history is never taken for one of
 * the new.
 *
 * <pre>{@code
 * StreamRegistry registry = StreamRegistry.builder()
 *         .cluster(RedisCluster.builder("redis://127.0.0.1:6379").build())
 *         .build();
 * }</pre>
 *
 * <p>This first version carries live events between instances; resuming on another instance from the topic's log
 * and Redis failures (reconnecting, resets) come next (see the README's "Many instances").
 */
public final class RedisCluster implements Cluster {

    private static final Logger log = LoggerFactory.getLogger(RedisCluster.class);

    /** How long one blocking read waits before it goes round (and sees a close). */
    private static final Duration BLOCK = Duration.ofMillis(500);
    /** Most bus entries one read returns. */
    private static final int READ_COUNT = 512;

    private final RedisClient client;
    private final String busKey;
    private final String epochKey;
    private final long busLength;
    private final StatefulRedisConnection<String, String> commands;
    private volatile String epoch;
    private volatile boolean closed;
    private Thread reader;

    private RedisCluster(Builder b) {
        this.client = RedisClient.create(RedisURI.create(b.uri));
        // While Redis is unreachable a publish fails at once: Lettuce would otherwise queue commands without bound.
        client.setOptions(ClientOptions.builder()
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(b.maxPendingPublishes).build());
        this.busKey = b.prefix + "bus";
        this.epochKey = b.prefix + "epoch";
        this.busLength = b.busLength;
        this.commands = client.connect();
    }

    /** A cluster on the Redis at {@code uri} ({@code redis://host:port}, with a password or database if any). */
    public static Builder builder(String uri) {
        return new Builder(uri);
    }

    @Override
    public void start(Deliveries deliveries) {
        Objects.requireNonNull(deliveries, "deliveries");
        RedisCommands<String, String> redis = commands.sync();
        redis.set(epochKey, UUID.randomUUID().toString().substring(0, 8), SetArgs.Builder.nx());
        epoch = redis.get(epochKey);
        // From the bus's last entry: events published before this instance started are not delivered live here.
        List<StreamMessage<String, String>> last = redis.xrevrange(busKey, Range.create("-", "+"), Limit.create(0, 1));
        String from = last.isEmpty() ? "0-0" : last.get(0).getId();
        StatefulRedisConnection<String, String> blocking = client.connect();
        reader = new Thread(() -> read(blocking, from, deliveries), "handoff-redis-bus");
        reader.setDaemon(true);
        reader.start();
        log.info("cluster on Redis bus {} (epoch {}), reading after {}", busKey, epoch, from);
    }

    /** The bus reader: every entry after {@code from}, in order, to the registry. */
    private void read(StatefulRedisConnection<String, String> connection, String from, Deliveries deliveries) {
        RedisCommands<String, String> redis = connection.sync();
        String lastId = from;
        try {
            while (!closed) {
                List<StreamMessage<String, String>> entries;
                try {
                    entries = redis.xread(XReadArgs.Builder.block(BLOCK).count(READ_COUNT),
                            XReadArgs.StreamOffset.from(busKey, lastId));
                } catch (RuntimeException e) {
                    if (closed) {
                        return;
                    }
                    log.warn("reading the Redis bus {} failed, retrying: {}", busKey, e.toString());
                    sleepQuietly(BLOCK);
                    continue;
                }
                for (StreamMessage<String, String> entry : entries) {
                    lastId = entry.getId();
                    Map<String, String> body = entry.getBody();
                    deliveries.deliver(body.get("t"), epoch + "_" + entry.getId(), EventFields.decode(body));
                }
            }
        } finally {
            connection.close();
        }
    }

    @Override
    public CompletionStage<String> publish(String topic, SseEvent event) {
        Map<String, String> body = new HashMap<>(EventFields.encode(event));
        body.put("t", topic);
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the Redis cluster was closed"));
        }
        return commands.async().xadd(busKey, XAddArgs.Builder.maxlen(busLength).approximateTrimming(), body)
                .thenApply(entryId -> epoch + "_" + entryId);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Thread r = reader;
        if (r != null) {
            try {
                r.join(BLOCK.toMillis() * 4);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        commands.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }

    @Override
    public String toString() {
        return "RedisCluster[" + busKey + ", epoch " + epoch + "]";
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Settings of a {@link RedisCluster}. Defaults: keys under {@code handoff:}, a bus of about 10,000 entries, up to
     * 10,000 publishes awaiting Redis's answer.
     */
    public static final class Builder {
        private final String uri;
        private String prefix = "handoff:";
        private long busLength = 10_000;
        private int maxPendingPublishes = 10_000;

        private Builder(String uri) {
            this.uri = Objects.requireNonNull(uri, "uri");
        }

        /** The prefix of every key the cluster uses (several applications may share one Redis). */
        public Builder keyPrefix(String prefix) {
            this.prefix = Objects.requireNonNull(prefix, "prefix");
            return this;
        }

        /** About how many entries the bus keeps (XADD MAXLEN ~): an instance further behind than that misses events. */
        public Builder busLength(long entries) {
            if (entries < 1) {
                throw new IllegalArgumentException("busLength must be at least 1: " + entries);
            }
            this.busLength = entries;
            return this;
        }

        /** Most publishes sent to Redis and not yet answered; beyond it a publish fails at once. */
        public Builder maxPendingPublishes(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxPendingPublishes must be at least 1: " + max);
            }
            this.maxPendingPublishes = max;
            return this;
        }

        /** Connects; the registry that is given the cluster starts it. */
        public RedisCluster build() {
            return new RedisCluster(this);
        }
    }
}
