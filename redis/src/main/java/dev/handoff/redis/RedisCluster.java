package dev.handoff.redis;

import dev.handoff.core.SseEvent;
import dev.handoff.registry.Cluster;
import dev.handoff.registry.ClusterRefusedException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
 * <p>Each kept event also goes into its topic's log ({@code <prefix>log:<topic>}), under the bus entry's id, in the
 * same script: a client resumes from it on any instance ({@link #read}). An instance that may have missed events
 * (Redis trimmed bus entries it had not read, or lost its data) tells its registry, which resets its topics.
 *
 * <p>One Redis (with replicas or Sentinel if wanted), not a Redis Cluster: the scripts touch the bus, the epoch and
 * the topics' logs together, which a sharded cluster refuses unless all are in one slot.
 */
public final class RedisCluster implements Cluster {

    private static final Logger log = LoggerFactory.getLogger(RedisCluster.class);

    /** How long one blocking read waits before it goes round (and sees a close). */
    private static final Duration BLOCK = Duration.ofMillis(500);
    /** Most bus entries one read returns. */
    private static final int READ_COUNT = 512;

    private final RedisClient client;
    private final String prefix;
    private final String busKey;
    private final String epochKey;
    /** Where the current epoch's history begins on the bus, when it began with entries left from an older one. */
    private final String epochFromKey;
    private final long busLength;
    /** The topic logs' size and age limit, from the registry's replay settings ({@link #start}). */
    private volatile int logLength;
    private volatile long logAgeMillis;
    /**
     * Publishes and log reads. Its client does not reconnect by itself: Lettuce's reconnecting connections re-send
     * a command that was in flight when the connection dropped (Lettuce 6), which for a publish Redis had applied
     * would append the event twice. This one is replaced instead ({@link #reconnectCommands}), and a command in
     * flight on a dropped connection fails as unknown.
     */
    private volatile StatefulRedisConnection<String, String> commands;
    private final RedisClient commandsClient;
    private final ClientResources resources;
    private final RedisURI uri;
    private final AtomicBoolean reconnecting = new AtomicBoolean();
    private volatile long lastReconnectNanos;
    private volatile String epoch;
    /** The bus reader's connection name ({@code CLIENT LIST}): which instance's reader a connection is. */
    private final String readerName = "handoff-bus-" + UUID.randomUUID().toString().substring(0, 8);
    /** The commands connection's name. */
    private final String commandsName = readerName.replace("handoff-bus-", "handoff-pub-");
    private volatile boolean closed;
    private Thread reader;
    /** The position of the last bus entry read; whether the last read failed. */
    private volatile String position;
    private volatile boolean readFailing;
    /** The bus reader's connection, once made; the connections Lettuce reports lost and not yet back. */
    private volatile StatefulRedisConnection<String, String> readerConnection;
    private final Set<Object> disconnected = ConcurrentHashMap.newKeySet();
    /** Times the bus reader's connection came back after Lettuce lost it: one per outage. */
    private final LongAdder reconnects = new LongAdder();
    private final String address;

    private RedisCluster(Builder b) {
        this.uri = RedisURI.create(b.uri);
        // The sync commands' time-out (on the URI: Lettuce 7 has no client-wide setter); the blocking read waits less.
        uri.setTimeout(b.commandTimeout.plus(BLOCK));
        this.resources = DefaultClientResources.create();
        this.client = RedisClient.create(resources, uri);
        this.commandsClient = RedisClient.create(resources, uri);
        // While Redis is unreachable a publish fails at once: Lettuce would otherwise queue commands without bound.
        // A Redis that stops answering (paused, overloaded) fails a publish after the command time-out, not never.
        ClientOptions.Builder options = ClientOptions.builder()
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(b.maxPendingPublishes)
                .timeoutOptions(TimeoutOptions.enabled(b.commandTimeout));
        client.setOptions(options.build());
        commandsClient.setOptions(options.autoReconnect(false).build());
        this.prefix = b.prefix;
        this.busKey = b.prefix + "bus";
        this.epochKey = b.prefix + "epoch";
        this.epochFromKey = b.prefix + "epoch-from";
        this.busLength = b.busLength;
        // Lettuce 6 re-sends a command in flight after it reconnects (the reader's XREAD goes on as if nothing
        // happened), so the connections' state comes from Lettuce's own events, not from failed commands.
        RedisConnectionStateListener states = new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
                disconnected.add(connection);
            }

            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
                if (disconnected.remove(connection) && connection == readerConnection) {
                    reconnects.increment();
                }
            }
        };
        client.addListener(states);
        commandsClient.addListener(states);
        this.commands = commandsClient.connect();
        commands.sync().clientSetname(commandsName);
        this.address = uri.getHost() + ":" + uri.getPort() + "/" + uri.getDatabase();
    }

    /** A cluster on the Redis at {@code uri} ({@code redis://host:port}, with a password or database if any). */
    public static Builder builder(String uri) {
        return new Builder(uri);
    }

    @Override
    public String start(Deliveries deliveries, Replay replay) {
        Objects.requireNonNull(deliveries, "deliveries");
        this.logLength = replay.events();
        this.logAgeMillis = replay.maxAge().toMillis();
        RedisCommands<String, String> redis = commands.sync();
        requireRedis7(redis);
        redis.set(epochKey, newEpoch(), SetArgs.Builder.nx());
        epoch = redis.get(epochKey);
        // From the bus's last entry: events published before this instance started are not delivered live here.
        List<Object> start = redis.eval(START_SCRIPT, ScriptOutputType.MULTI, busKey);
        String from = String.valueOf(start.get(0));
        long passed = ((Number) start.get(1)).longValue();
        StatefulRedisConnection<String, String> blocking = client.connect();
        readerConnection = blocking;
        blocking.sync().clientSetname(readerName);
        reader = new Thread(() -> read(blocking, from, passed, deliveries), "handoff-redis-bus");
        reader.setDaemon(true);
        reader.start();
        log.info("cluster on Redis bus {} (epoch {}), reading after {}", busKey, epoch, from);
        position = epoch + "_" + from;
        return position;
    }

    /**
     * Reads the bus after an id in one atomic step, with what tells whether anything unread was lost: the epoch
     * (set if Redis lost it, with the value offered; otherwise the script writes nothing, so that it still reads
     * when Redis refuses writes at its {@code maxmemory}) and how many entries were ever trimmed from the bus
     * ({@code entries-added} less {@code length}, Redis 7), then up to {@code count} entries after the id. Trimming
     * takes the oldest entries, so if more were trimmed than the reader has passed (ARGV[4]), some it had not read
     * are gone. A plain {@code XREAD} could not tell an entry it skipped because it was trimmed a moment before
     * from one that never existed. Also returns how many entries were ever added (fewer than the reader passed:
     * Redis went back in its history, a restart from an older snapshot) and where the epoch's history begins.
     */
    private static final String READ_SCRIPT = """
            local epoch = redis.call('GET', KEYS[2])
            if not epoch then
              redis.call('SET', KEYS[2], ARGV[3], 'NX')
              redis.call('DEL', KEYS[3])
              epoch = redis.call('GET', KEYS[2])
            end
            local trimmed, added = 0, 0
            if redis.call('EXISTS', KEYS[1]) == 1 then
              local info = redis.call('XINFO', 'STREAM', KEYS[1])
              local length = 0
              for i = 1, #info, 2 do
                if info[i] == 'entries-added' then added = info[i + 1] end
                if info[i] == 'length' then length = info[i + 1] end
              end
              trimmed = added - length
            end
            local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
            return {epoch, trimmed, entries, added, redis.call('GET', KEYS[3]) or ''}
            """;

    private static final String READ_SCRIPT_SHA = sha1(READ_SCRIPT);

    /**
     * Starts a new epoch when Redis went back in its history (what some instance read is gone, and ids from then
     * would be reissued): if the epoch is still the one the caller saw (another instance may have started one
     * already), it becomes ARGV[2], and its history begins after the bus's entries now ("last-id added").
     */
    private static final String NEW_EPOCH_SCRIPT = """
            if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
            local last, added = '0-0', 0
            if redis.call('EXISTS', KEYS[2]) == 1 then
              local info = redis.call('XINFO', 'STREAM', KEYS[2])
              for i = 1, #info, 2 do
                if info[i] == 'entries-added' then added = info[i + 1] end
                if info[i] == 'last-generated-id' then last = info[i + 1] end
              end
            end
            redis.call('SET', KEYS[3], last .. ' ' .. added)
            redis.call('SET', KEYS[1], ARGV[2])
            return 1
            """;

    /** Where a new reader starts, atomically: the bus's last entry id and how many entries were ever added. */
    private static final String START_SCRIPT = """
            if redis.call('EXISTS', KEYS[1]) == 0 then return {'0-0', 0} end
            local info = redis.call('XINFO', 'STREAM', KEYS[1])
            local added, last = 0, '0-0'
            for i = 1, #info, 2 do
              if info[i] == 'entries-added' then added = info[i + 1] end
              if info[i] == 'last-generated-id' then last = info[i + 1] end
            end
            return {last, added}
            """;

    /**
     * The bus reader: every entry after {@code from}, in order, to the registry. Each read is the atomic
     * {@link #READ_SCRIPT}; when it finds nothing new, an {@code XREAD BLOCK} waits for the next entry. A new
     * epoch (Redis lost its data) or entries trimmed past this reader's position are reported to the registry,
     * which resets its topics; then the reader goes on from what is there.
     */
    private void read(StatefulRedisConnection<String, String> connection, String from, long passedAtStart,
            Deliveries deliveries) {
        RedisCommands<String, String> redis = connection.sync();
        String lastId = from;
        // Entries of the bus up to lastId, the trimmed ones included: what this reader has passed.
        long passed = passedAtStart;
        try {
            while (!closed) {
                reconnectCommands();
                try {
                    List<Object> answer = readScript(redis, lastId, passed);
                    String nowEpoch = String.valueOf(answer.get(0));
                    if (!nowEpoch.equals(epoch)) {
                        // A new history: from its beginning (all of the bus, after a restart with no data; after
                        // the entries left from the old one, when Redis went back in its history).
                        String was = epoch;
                        String[] begins = String.valueOf(answer.get(4)).split(" ");
                        epoch = nowEpoch;
                        lastId = begins.length == 2 ? begins[0] : "0-0";
                        passed = begins.length == 2 ? Long.parseLong(begins[1]) : 0;
                        position = nowEpoch + "_" + lastId;
                        deliveries.lost("Redis lost its data: epoch " + was + " is now " + nowEpoch, position);
                        continue;
                    }
                    long added = ((Number) answer.get(3)).longValue();
                    if (added < passed) {
                        log.warn("Redis went back in its history: the bus {} has had {} entries, this instance read "
                                + "{} (a restart from an older snapshot?); starting a new epoch", busKey, added, passed);
                        redis.eval(NEW_EPOCH_SCRIPT, ScriptOutputType.INTEGER, new String[] {epochKey, busKey, epochFromKey},
                                epoch, newEpoch());
                        continue;
                    }
                    long trimmed = ((Number) answer.get(1)).longValue();
                    if (trimmed > passed) {
                        deliveries.lost("the bus " + busKey + " was trimmed past this instance's position " + lastId
                                + " (" + (trimmed - passed) + " entries it had not read)", epoch + "_" + lastId);
                        passed = trimmed;
                    }
                    if (readFailing) {
                        readFailing = false;
                        log.info("reading the Redis bus {} again, after {}", busKey, lastId);
                    }
                    List<?> entries = (List<?>) answer.get(2);
                    for (Object e : entries) {
                        List<?> entry = (List<?>) e;
                        lastId = String.valueOf(entry.get(0));
                        position = epoch + "_" + lastId;
                        passed++;
                        Map<String, String> body = fields((List<?>) entry.get(1));
                        deliveries.deliver(body.get("t"), epoch + "_" + lastId, EventFields.decode(body),
                                EntryId.parse(lastId).ms());
                    }
                    if (entries.isEmpty()) {
                        // Nothing new: wait for the next entry (what it returns is read by the script next round).
                        redis.xread(XReadArgs.Builder.block(BLOCK).count(1), XReadArgs.StreamOffset.from(busKey, lastId));
                    }
                } catch (RuntimeException e) {
                    if (closed) {
                        return;
                    }
                    if (!readFailing) {
                        readFailing = true;
                        log.warn("reading the Redis bus {} failed, retrying every {} ms: {}", busKey, BLOCK.toMillis(),
                                e.toString());
                    }
                    sleepQuietly(BLOCK);
                }
            }
        } finally {
            connection.close();
        }
    }

    /**
     * Replaces the commands connection if it dropped: at most one attempt at a time, and one per {@link #BLOCK}.
     * Until it is back, publishes fail at once as refused (Lettuce rejects commands on a disconnected connection).
     */
    private void reconnectCommands() {
        StatefulRedisConnection<String, String> dropped = commands;
        if (closed || dropped.isOpen() || System.nanoTime() - lastReconnectNanos < BLOCK.toNanos()
                || !reconnecting.compareAndSet(false, true)) {
            return;
        }
        lastReconnectNanos = System.nanoTime();
        commandsClient.connectAsync(StringCodec.UTF8, uri).whenComplete((fresh, failure) -> {
            reconnecting.set(false);
            if (failure != null) {
                return; // Tried again on the next publish or read of the bus.
            }
            if (closed) {
                fresh.closeAsync();
                return;
            }
            fresh.async().clientSetname(commandsName);
            commands = fresh;
            disconnected.remove(dropped);
            dropped.closeAsync();
            log.info("publishing to Redis again on a new connection");
        });
    }

    /** The commands connection, after asking for a new one if it dropped. */
    private StatefulRedisConnection<String, String> commands() {
        StatefulRedisConnection<String, String> c = commands;
        if (!c.isOpen()) {
            reconnectCommands();
        }
        return c;
    }

    /** The read script by its SHA (loaded again when Redis restarted and forgot it). */
    private List<Object> readScript(RedisCommands<String, String> redis, String lastId, long passed) {
        String[] keys = {busKey, epochKey, epochFromKey};
        String[] args = {lastId, Integer.toString(READ_COUNT), newEpoch(), Long.toString(passed)};
        try {
            return redis.evalsha(READ_SCRIPT_SHA, ScriptOutputType.MULTI, keys, args);
        } catch (RedisNoScriptException e) {
            redis.scriptLoad(READ_SCRIPT);
            return redis.evalsha(READ_SCRIPT_SHA, ScriptOutputType.MULTI, keys, args);
        }
    }

    private static String newEpoch() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    private static Map<String, String> fields(List<?> flat) {
        Map<String, String> body = new HashMap<>(flat.size());
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            body.put(String.valueOf(flat.get(i)), String.valueOf(flat.get(i + 1)));
        }
        return body;
    }

    @Override
    public CompletionStage<String> publish(String topic, SseEvent event) {
        if (closed) {
            return CompletableFuture.failedFuture(new ClusterRefusedException("the Redis cluster was closed", null));
        }
        // Kept in the topic's log as the registry keeps it in a ring: events with an id, given or numbered.
        boolean logged = event.id() != null || event.data() != null || event.event() != null;
        Map<String, String> fields = EventFields.encode(event);
        List<String> args = new ArrayList<>(5 + 2 * fields.size());
        args.add(Long.toString(busLength));
        args.add(logged ? Integer.toString(logLength) : "0");
        args.add(Long.toString(logAgeMillis));
        args.add(topic);
        fields.forEach((name, value) -> {
            args.add(name);
            args.add(value);
        });
        CompletionStage<List<Object>> added = evalAsync(PUBLISH_SCRIPT, PUBLISH_SCRIPT_SHA, ScriptOutputType.MULTI,
                new String[] {busKey, logKey(topic), epochKey}, args.toArray(String[]::new));
        return added.handle((answer, failure) -> {
            if (failure == null) {
                // Numbered in the epoch Redis holds as it took the event: after Redis went back to an older
                // snapshot, another instance may have started a new one before this one's reader saw it.
                Object now = answer.size() > 1 ? answer.get(1) : null;
                return (now instanceof String current ? current : epoch) + "_" + answer.get(0);
            }
            Throwable cause = unwrap(failure);
            if (certainlyNotTaken(cause)) {
                throw new ClusterRefusedException("Redis did not take the event for '" + topic + "': " + cause.getMessage(),
                        cause);
            }
            throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
        });
    }

    /**
     * Whether a failed publish was certainly not applied: Lettuce refused to send it (disconnected, closed, its queue
     * full: its messages for those; or the connection's channel was closed when it wrote), or Redis answered with an
     * error (at its memory limit, say: the script's first
     * write failed, so it wrote nothing). A time-out, or a connection lost after sending, leaves it unknown: Redis
     * may have applied it.
     */
    private static boolean certainlyNotTaken(Throwable failure) {
        if (failure instanceof RedisCommandExecutionException || failure instanceof ClosedChannelException) {
            return true; // Redis answered with an error; or the write failed on a channel already closed.
        }
        if (failure instanceof RedisCommandTimeoutException || !(failure instanceof RedisException)) {
            return false;
        }
        String message = String.valueOf(failure.getMessage());
        return message.startsWith("Currently not connected") || message.startsWith("Connection is closed")
                || message.startsWith("Request queue size exceeded") || message.startsWith("Command buffer size exceeded");
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    /**
     * Appends an event to the bus and, if it is kept, to its topic's log under the same entry id, in one step: an
     * event is on the bus (delivered everywhere) exactly when its log has it (resumable everywhere). Each log entry
     * names the entry before it in the log ({@code p}): when the oldest ones were trimmed, the first left says
     * whether a position was just before it (nothing missed) or further back (something was). Logs are trimmed to
     * about the replay size ({@code MAXLEN ~}), by age ({@code MINID ~}), and expire a replay age after their last
     * event, so that a topic no one publishes to any more leaves nothing behind. Returns the entry id and the epoch
     * (KEYS[3]; nil where Redis lost it and no reader has set it again).
     */
    private static final String PUBLISH_SCRIPT = """
            local fields = {}
            for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
            local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[4], unpack(fields))
            if tonumber(ARGV[2]) > 0 then
              local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
              local prev = '0-0'
              if #last > 0 then prev = last[1][1] end
              redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], id, 'p', prev, unpack(fields))
              local age = tonumber(ARGV[3])
              if age > 0 then
                local t = redis.call('TIME')
                local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
                redis.call('XTRIM', KEYS[2], 'MINID', '~', string.format('%d', now - age))
                redis.call('PEXPIRE', KEYS[2], age)
              end
            end
            return {id, redis.call('GET', KEYS[3])}
            """;

    private static final String PUBLISH_SCRIPT_SHA = sha1(PUBLISH_SCRIPT);

    /**
     * Reads topics' logs after their positions, in one step with what says whether each can be resumed: the epoch
     * (none: Redis lost its data, and nothing can be), the bus's last id (a position after it was never issued),
     * the time (a position older than the replay age may have expired), and each log's first entry's predecessor
     * (after the position: trimmed entries the position had not reached). ARGV: count, age in ms, then an epoch
     * and an entry id per log. Returns {epoch, bus last id, then per log: lost (1) or not (0), its entries}.
     */
    private static final String LOG_READ_SCRIPT = """
            local epoch = redis.call('GET', KEYS[1])
            if not epoch then return {0} end
            local function parts(id)
              local d = string.find(id, '-', 1, true)
              return tonumber(string.sub(id, 1, d - 1)), tonumber(string.sub(id, d + 1))
            end
            local function before(a, b)
              local am, as = parts(a)
              local bm, bs = parts(b)
              return am < bm or (am == bm and as < bs)
            end
            local busLast = '0-0'
            if redis.call('EXISTS', KEYS[2]) == 1 then
              local info = redis.call('XINFO', 'STREAM', KEYS[2])
              for i = 1, #info, 2 do
                if info[i] == 'last-generated-id' then busLast = info[i + 1] end
              end
            end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local count, age = tonumber(ARGV[1]), tonumber(ARGV[2])
            local out = {epoch, busLast}
            for k = 3, #KEYS do
              local positionEpoch, after = ARGV[2 * k - 3], ARGV[2 * k - 2]
              local lost = positionEpoch ~= epoch or before(busLast, after)
                  or (age > 0 and parts(after) < now - age)
              local entries = {}
              if not lost and redis.call('EXISTS', KEYS[k]) == 1 then
                local first = redis.call('XRANGE', KEYS[k], '-', '+', 'COUNT', 1)[1]
                local prev = '0-0'
                for i = 1, #first[2], 2 do
                  if first[2][i] == 'p' then prev = first[2][i + 1] end
                end
                if before(after, prev) then
                  lost = true
                else
                  entries = redis.call('XRANGE', KEYS[k], '(' .. after, '+', 'COUNT', count)
                end
              end
              out[#out + 1] = lost and 1 or 0
              out[#out + 1] = entries
            end
            return out
            """;

    private static final String LOG_READ_SCRIPT_SHA = sha1(LOG_READ_SCRIPT);

    /** A position of this cluster: {@code <epoch>_<bus entry id>}. */
    private static final Pattern POSITION = Pattern.compile("([0-9a-f]{8})_(\\d{1,19}-\\d{1,19})");

    @Override
    public CompletionStage<Cluster.LogPage> read(Map<String, String> after, int count) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the Redis cluster was closed"));
        }
        Set<String> lost = new HashSet<>();
        List<String> topics = new ArrayList<>(after.size());
        List<String> keys = new ArrayList<>(2 + after.size());
        List<String> args = new ArrayList<>(2 + 2 * after.size());
        keys.add(epochKey);
        keys.add(busKey);
        args.add(Integer.toString(Math.max(1, count)));
        args.add(Long.toString(logLength > 0 ? logAgeMillis : 0));
        after.forEach((topic, position) -> {
            Matcher m = position == null ? null : POSITION.matcher(position);
            if (logLength == 0 || m == null || !m.matches()) {
                lost.add(topic); // Not an id of this cluster (or nothing is kept): nothing to read.
                return;
            }
            topics.add(topic);
            keys.add(logKey(topic));
            args.add(m.group(1));
            args.add(m.group(2));
        });
        return evalAsync(LOG_READ_SCRIPT, LOG_READ_SCRIPT_SHA, ScriptOutputType.MULTI, keys.toArray(String[]::new),
                args.toArray(String[]::new)).thenApply(answer -> page((List<?>) answer, topics, count, lost));
    }

    /** The page a log read returned: its topics' entries merged in bus order, up to where all of them are whole. */
    private static Cluster.LogPage page(List<?> answer, List<String> topics, int count, Set<String> lost) {
        if (!(answer.get(0) instanceof String redisEpoch)) {
            throw new IllegalStateException("Redis lost its data (no epoch): the bus reader resets this instance");
        }
        String busLast = String.valueOf(answer.get(1));
        // Up to where every log read is whole: its last entry when it returned all it was asked for.
        EntryId coveredTo = EntryId.parse(busLast);
        List<List<?>> perTopic = new ArrayList<>(topics.size());
        for (int i = 0; i < topics.size(); i++) {
            boolean topicLost = ((Number) answer.get(2 + 2 * i)).longValue() == 1;
            List<?> entries = (List<?>) answer.get(3 + 2 * i);
            if (topicLost) {
                lost.add(topics.get(i));
            }
            perTopic.add(entries);
            if (entries.size() >= count) {
                EntryId last = EntryId.parse(String.valueOf(((List<?>) entries.get(entries.size() - 1)).get(0)));
                if (last.compareTo(coveredTo) < 0) {
                    coveredTo = last;
                }
            }
        }
        List<Cluster.Logged> events = new ArrayList<>();
        List<EntryId> order = new ArrayList<>();
        for (int i = 0; i < topics.size(); i++) {
            for (Object e : perTopic.get(i)) {
                List<?> entry = (List<?>) e;
                EntryId id = EntryId.parse(String.valueOf(entry.get(0)));
                if (id.compareTo(coveredTo) <= 0) {
                    order.add(id);
                    events.add(new Cluster.Logged(topics.get(i), redisEpoch + "_" + id,
                            EventFields.decode(fields((List<?>) entry.get(1)))));
                }
            }
        }
        if (topics.size() > 1) {
            Integer[] index = new Integer[events.size()];
            for (int i = 0; i < index.length; i++) {
                index[i] = i;
            }
            Arrays.sort(index, (a, b) -> order.get(a).compareTo(order.get(b)));
            List<Cluster.Logged> sorted = new ArrayList<>(events.size());
            for (Integer i : index) {
                sorted.add(events.get(i));
            }
            events = sorted;
        }
        return new Cluster.LogPage(events, redisEpoch + "_" + coveredTo, lost);
    }

    @Override
    public Status status() {
        boolean connected = !closed && disconnected.isEmpty() && commands.isOpen() && !readFailing;
        return new Status(connected, position, reconnects.sum(), Map.of("redis", address, "bus", busKey,
                "epoch", String.valueOf(epoch), "reader", readerName));
    }

    @Override
    public boolean isAtOrAfter(String position, String other) {
        Matcher a = POSITION.matcher(position);
        Matcher b = POSITION.matcher(other);
        if (!a.matches() || !b.matches() || !a.group(1).equals(b.group(1))) {
            return false;
        }
        return EntryId.parse(a.group(2)).compareTo(EntryId.parse(b.group(2))) >= 0;
    }

    /** A Redis stream entry id, {@code <ms>-<seq>}, ordered as Redis orders them. */
    private record EntryId(long ms, long seq) implements Comparable<EntryId> {
        static EntryId parse(String id) {
            int dash = id.indexOf('-');
            return new EntryId(Long.parseUnsignedLong(id.substring(0, dash)), Long.parseUnsignedLong(id.substring(dash + 1)));
        }

        @Override
        public int compareTo(EntryId o) {
            int c = Long.compareUnsigned(ms, o.ms);
            return c != 0 ? c : Long.compareUnsigned(seq, o.seq);
        }

        @Override
        public String toString() {
            return Long.toUnsignedString(ms) + "-" + Long.toUnsignedString(seq);
        }
    }

    private String logKey(String topic) {
        return prefix + "log:" + topic;
    }

    /** Runs a script by its SHA on the shared connection, sending it whole when Redis does not know it (a restart). */
    private <T> CompletionStage<T> evalAsync(String script, String sha, ScriptOutputType type, String[] keys,
            String[] args) {
        RedisAsyncCommands<String, String> redis = commands().async();
        return redis.<T>evalsha(sha, type, keys, args).handle((value, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(value);
            }
            Throwable cause = unwrap(failure);
            if (cause instanceof RedisNoScriptException) {
                return redis.<T>eval(script, type, keys, args).toCompletableFuture();
            }
            return CompletableFuture.<T>failedFuture(cause);
        }).thenCompose(stage -> stage);
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
        commandsClient.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    private static String sha1(String script) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(script.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder(40);
            for (byte b : digest) {
                hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-1", e);
        }
    }

    /**
     * Refuses a Redis older than 7.0: the bus reader counts trimmed entries with {@code XINFO STREAM}'s
     * {@code entries-added}, which Redis 7 introduced; on an older one a reader that fell behind would miss events
     * without telling its subscribers.
     */
    private static void requireRedis7(RedisCommands<String, String> redis) {
        for (String line : redis.info("server").split("\\r?\\n")) {
            if (line.startsWith("redis_version:")) {
                String version = line.substring("redis_version:".length()).trim();
                int major = Integer.parseInt(version.substring(0, version.indexOf('.')));
                if (major < 7) {
                    throw new IllegalStateException("handoff-redis needs Redis 7.0 or later (XINFO STREAM entries-added); "
                            + "this one is " + version);
                }
                return;
            }
        }
    }

    /** The name the bus reader's connection gives itself in Redis. */
    String readerName() {
        return readerName;
    }

    /** The name the commands (publish) connection gives itself in Redis. */
    String commandsName() {
        return commandsName;
    }

    @Override
    public String toString() {
        return "RedisCluster[" + busKey + ", epoch " + epoch + ", reader " + readerName + "]";
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
     * 10,000 publishes awaiting Redis's answer, 5 s for Redis to answer one.
     */
    public static final class Builder {
        private final String uri;
        private String prefix = "handoff:";
        private long busLength = 10_000;
        private int maxPendingPublishes = 10_000;
        private Duration commandTimeout = Duration.ofSeconds(5);

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

        /** How long Redis may take to answer a command; a publish not answered by then fails. */
        public Builder commandTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("commandTimeout must be positive: " + timeout);
            }
            this.commandTimeout = timeout;
            return this;
        }

        /** Connects; the registry that is given the cluster starts it. */
        public RedisCluster build() {
            return new RedisCluster(this);
        }
    }
}
