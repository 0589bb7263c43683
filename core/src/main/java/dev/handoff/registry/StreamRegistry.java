package dev.handoff.registry;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.Handoff;
import dev.handoff.core.HandoffFilter;
import dev.handoff.core.HandoffRejectedException;
import dev.handoff.core.OverflowPolicy;
import dev.handoff.core.QueueFullException;
import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import dev.handoff.core.StreamHandle;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.StreamScheduler;
import dev.handoff.core.internal.ApiAccess;
import dev.handoff.core.internal.DefaultSseStream;
import dev.handoff.core.internal.SseEncoder;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A broker of SSE streams: clients subscribe to topics, the application publishes to a topic from any
 * thread, and every subscriber gets the event, in order, with an id it can resume from.
 *
 * <pre>{@code
 * StreamRegistry registry = StreamRegistry.builder().replay(500, Duration.ofMinutes(5)).maxStreams(20_000).build();
 *
 * // In a servlet (behind HandoffFilter): hands the request off and subscribes it.
 * registry.subscribe(request, "tasks/" + taskId);
 *
 * // Anywhere, any thread: returns at once, whatever the number or speed of the subscribers.
 * registry.publish("tasks/" + taskId, SseEvent.of("progress", "42"));
 * }</pre>
 *
 * <p><b>Broadcast.</b> An event is encoded once; the registry puts an {@code id:} line in front of that frame
 * and queues the same bytes to every subscriber. Delivery runs on the {@link StreamScheduler}'s pool, split
 * over its threads (see {@link FanOut}); a slow subscriber only fills its own queue, and its stream's
 * {@link OverflowPolicy} decides what happens then.
 *
 * <p><b>Ids and replay.</b> Events without an id get one from the registry, {@code <epoch>-<n>}: {@code n}
 * grows with every publish (over all topics), and the epoch changes with every registry, so ids from before
 * a restart are recognised as such. An application may give its own ids instead. Each topic keeps its last
 * events in a ring ({@link Builder#replay}). A client that reconnects with {@code Last-Event-ID} gets every
 * retained event after that id on its topics, then the live ones, with no gap and no duplicate: the
 * replay is queued in the same ordered mailbox as live events. When the registry cannot prove that the
 * client missed nothing (the id is older than a ring, unknown, from another registry, or replay is off),
 * it says so: for each such topic the stream first gets an event named {@value #RESET_EVENT} whose data
 * is the topic name, and whose id lets the next reconnect resume from there. An application that gets
 * a reset reloads that topic's state from its source of truth.
 *
 * <p><b>Many instances.</b> With a {@link Cluster} ({@link Builder#cluster}), a publish on any instance reaches
 * the subscribers of every instance, in one order per topic, and numbered events carry the cluster's id. A client
 * resumes on any instance: from its rings when they hold the {@code Last-Event-ID} (it was connected here), else
 * from the cluster's log ({@link Cluster#read}), a page at a time by demand, and then from the rings, with no gap
 * and no duplicate. Only topics with streams here are retained in rings; the cluster keeps the others.
 *
 * <p><b>Limits.</b> Streams in total, per topic and per client key; over a limit the request is refused
 * before anything is committed, with 503 (429 for the per-client limit), {@code Retry-After} and a message,
 * and counted ({@link RegistryStats#refusals()}). {@link HandoffFilter} writes the refusal; without the
 * filter, catch {@link HandoffRejectedException} and call {@link HandoffRejectedException#respond}.
 *
 * <p><b>Shutdown.</b> {@link #shutdown} refuses new streams, sends an optional final event, closes every
 * stream with {@link CloseReason#SHUTDOWN} (letting queued bytes drain) and aborts whatever is left when
 * the grace period ends.
 *
 * <p>Thread-safe. Publishing and subscribing take one short registry-wide lock; no call blocks on a
 * client. Listeners and the authorizer are called outside it.
 */
public final class StreamRegistry implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StreamRegistry.class);

    /** The name of the event that tells a client it may have missed events of a topic (data: the topic). */
    public static final String RESET_EVENT = "reset";

    /** Longest topic name, in characters. */
    public static final int MAX_TOPIC_LENGTH = Topic.MAX_NAME_LENGTH;

    /** Fan-out entries each stripe may hold before {@code publish} fails. */
    private static final int MAX_PENDING = 65_536;

    private enum State {
        /** Accepting streams and events. */
        OPEN,
        /** {@link #shutdown} runs: streams are refused, open ones are closing. */
        STOPPING,
        /** Shut down; publishing fails. */
        CLOSED
    }

    // ---- Fixed at construction.
    private final StreamScheduler scheduler;
    private final int replayEvents;
    private final long replayAgeNanos;
    private final int maxStreams;
    private final int maxPerTopic;
    private final int maxPerClient;
    private final Function<HttpServletRequest, String> clientKey;
    private final Duration retryAfter;
    private final TopicAuthorizer authorizer;
    private final List<RegistryListener> listeners;
    private final UnaryOperator<StreamOptions> streamOptions;
    private final Duration shutdownGrace;
    private final SseEvent shutdownEvent;
    private final Duration shutdownRetryJitter;
    private final String epoch = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36,
            36L * 36 * 36 * 36 * 36 * 36), 36);
    private final FanOut fanOut;
    private final ScheduledFuture<?> sweep;
    /** Carries publishes to every instance; null for a registry of its own. */
    private final Cluster cluster;
    /** This registry's side of the cluster; null without one. */
    private final ClusterLink link;
    /** What the streams' catch-ups read the rings through. */
    private final CatchUp.Log rings = new CatchUp.Log() {
        @Override
        public Object lock() {
            return lock;
        }

        @Override
        public long lastSeqLocked() {
            return seq;
        }

        @Override
        public String idOf(long n) {
            return eventId(n);
        }

        @Override
        public Cluster cluster() {
            return cluster;
        }

        @Override
        public String clusterPositionLocked() {
            return clusterPosition;
        }

        @Override
        public long clusterSeqLocked() {
            return clusterSeq;
        }
    };

    // ---- Counters, updated without the lock.
    private final LongAdder published = new LongAdder();
    private final LongAdder opened = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final Map<CloseReason, LongAdder> closes = counters(CloseReason.class);
    private final Map<Refusal, LongAdder> refusals = counters(Refusal.class);

    /** Open streams by id: lets the application's later (un)subscribe calls find the record without the lock. */
    private final Map<Long, Member> members = new ConcurrentHashMap<>();

    // ---- Guarded by lock.
    private final Object lock = new Object();
    private final Map<String, Topic> topics = new HashMap<>();
    private final Map<String, Integer> streamsPerClient = new HashMap<>();
    private State state = State.OPEN;
    /** Streams reserved or open: the total limit. */
    private int streams;
    /** The sequence number of the last published event, over all topics. */
    private long seq;
    /** The highest event number of any topic the registry forgot: resuming before it proves nothing. */
    private long forgottenTopicsUpTo;
    /**
     * With a cluster: the registry's position in the cluster's order (every event up to it was delivered here, or
     * was published before this instance started), and the local number of the last event delivered up to it.
     */
    private String clusterPosition;
    private long clusterSeq;

    private StreamRegistry(Builder b) {
        this.scheduler = b.scheduler != null ? b.scheduler : StreamScheduler.shared();
        this.replayEvents = b.replayEvents;
        this.replayAgeNanos = b.replayAge.toNanos();
        this.maxStreams = b.maxStreams;
        this.maxPerTopic = b.maxPerTopic;
        this.maxPerClient = b.maxPerClient;
        this.clientKey = b.clientKey;
        this.retryAfter = b.retryAfter;
        this.authorizer = b.authorizer;
        this.listeners = List.copyOf(b.listeners);
        this.streamOptions = b.streamOptions;
        this.shutdownGrace = b.shutdownGrace;
        this.shutdownEvent = b.shutdownEvent;
        this.shutdownRetryJitter = b.shutdownRetryJitter;
        this.fanOut = new FanOut(scheduler.parallelism(), scheduler.executor(), MAX_PENDING, scheduler::nanoTime,
                this::fanOutLag);
        if (replayEvents > 0 && replayAgeNanos > 0) {
            long period = Math.max(scheduler.tick().toNanos(), replayAgeNanos / 10);
            this.sweep = scheduler.executor().scheduleAtFixedRate(this::sweep, period, period, TimeUnit.NANOSECONDS);
        } else {
            this.sweep = null;
        }
        this.cluster = b.cluster;
        if (cluster == null) {
            this.link = null;
        } else {
            this.link = new ClusterLink(cluster, b.deliverLocallyWhenClusterFails, new ClusterLink.Local() {
                @Override
                public String publishHere(String topic, SseEvent event, String clusterId) {
                    return StreamRegistry.this.publishHere(topic, event, clusterId);
                }

                @Override
                public List<String> forgetAll(String from) {
                    return forgetAllFromCluster(from);
                }

                @Override
                public void tellListeners(Consumer<RegistryListener> call) {
                    StreamRegistry.this.tellListeners(call);
                }

                @Override
                public ScheduledExecutorService executor() {
                    return scheduler.executor();
                }
            });
            String from = cluster.start(link, new Cluster.Replay(replayEvents, b.replayAge));
            synchronized (lock) {
                if (clusterPosition == null) {
                    clusterPosition = Objects.requireNonNull(from, "the cluster's start position");
                }
            }
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------ streams

    /** Hands off the request (found through {@link HandoffFilter}) and subscribes it; see {@link #subscribe(Handoff, String...)}. */
    public SseStream subscribe(HttpServletRequest request, String... topics) {
        return subscribe(Handoff.from(request), topics);
    }

    /**
     * Opens an SSE stream for the handoff's request and subscribes it to {@code topics}. In order: the
     * topic names are checked, the {@link TopicAuthorizer} asked, the limits reserved; only then is the
     * request handed off. If the request carries {@code Last-Event-ID}, the stream first gets what it
     * missed (or a {@value #RESET_EVENT} event per topic it cannot resume), then live events.
     *
     * @throws HandoffRejectedException before anything is committed: a bad topic name (400), not authorised
     *         (403), over the per-client limit (429), over another limit or shutting down (503)
     */
    public SseStream subscribe(Handoff handoff, String... topics) {
        return subscribe(handoff, null, topics);
    }

    /**
     * As {@link #subscribe(Handoff, String...)}, onto a stream made before the request was handed off
     * ({@link Handoff#unattachedSse}): what was sent to it goes out first, then the catch-up, then live events.
     * Refused (the same exceptions), the stream is left as it was, for the caller to end.
     */
    public SseStream subscribe(Handoff handoff, SseStream unattached, String... topics) {
        if (unattached != null && !Handoff.isUnattached(unattached)) {
            throw new IllegalArgumentException("not an unattached stream (Handoff.unattachedSse), or a request took "
                    + "it already: " + unattached);
        }
        List<String> names = requestedTopics(topics);
        HttpServletRequest request = ApiAccess.api().request(handoff);
        for (String topic : names) {
            if (!authorizer.permits(request, topic)) {
                throw refused(Refusal.FORBIDDEN, "subscribing to topic '" + topic + "' is not allowed");
            }
        }
        String key = Objects.requireNonNullElse(clientKey.apply(request), "");
        Refused refusal;
        synchronized (lock) {
            refusal = reserveLocked(key, names);
        }
        if (refusal != null) {
            throw refused(refusal.refusal(), refusal.message());
        }
        Joining joining = new Joining(key, request, names);
        DefaultSseStream stream;
        try {
            stream = ApiAccess.api().openSse(handoff.options(o -> streamOptions.apply(o).withScheduler(scheduler)),
                    unattached, joining::register);
        } catch (RuntimeException e) {
            joining.handoffFailed(e);
            throw e;
        }
        joining.opened(stream);
        return stream;
    }

    /**
     * One subscribe on its way: the stream is registered before its head is committed (a client that sees the
     * response start misses no event), and the books are put right if the handoff then fails.
     */
    private final class Joining {
        private final String key;
        private final HttpServletRequest request;
        private final List<String> names;
        private Member member;
        /** A shutdown began while this request was on its way: it did not see this stream. */
        private boolean stopping;

        Joining(String key, HttpServletRequest request, List<String> names) {
            this.key = key;
            this.request = request;
            this.names = names;
        }

        /** On the request's thread, once the stream exists and before its head is committed. */
        void register(DefaultSseStream s) {
            Member m = new Member(s, key, request, fanOut.stripeOf(s.id()), rings, fanOut);
            s.connection().countBytesInto(bytesWritten);
            List<FanOut.Stripe> toStart = FanOut.newStartList();
            synchronized (lock) {
                stopping = state != State.OPEN;
                members.put(m.id(), m);
                attachLocked(m, names, s.lastEventId().orElse(null), toStart);
            }
            member = m;
            opened.increment();
            fanOut.start(toStart);
        }

        void handoffFailed(RuntimeException e) {
            if (member == null) {
                synchronized (lock) {
                    releaseLocked(key, names);
                }
            } else {
                // Committing failed after the stream was registered; the handoff ended the stream.
                member.stream.abort(CloseReason.ERROR, "the handoff failed: " + e);
                ended(member, member.stream.closeStatus().orElseThrow(), false);
            }
        }

        void opened(DefaultSseStream stream) {
            Member m = member;
            tellListeners(l -> l.onOpen(m));
            for (String topic : names) {
                tellListeners(l -> l.onSubscribe(m, topic));
            }
            stream.onClose(status -> ended(m, status, true));
            if (stopping) {
                stream.close(CloseReason.SHUTDOWN, "the registry is shutting down");
            }
        }
    }

    /**
     * Adds a live subscription to a stream of this registry: it receives the topic's events published from
     * now on (no replay). Returns false if it already had it or has ended.
     *
     * @throws IllegalArgumentException if the stream is not this registry's or the topic name is invalid
     * @throws HandoffRejectedException (403) if the {@link TopicAuthorizer} says no (it is given the stream's
     *         request), (503) if the topic is at its subscriber limit; counted, logged and told to listeners
     *         like any refusal
     */
    public boolean subscribe(SseStream stream, String topic) {
        Member member = memberOf(stream);
        requireTopic(topic);
        if (refusedByAuthorizer(member, topic)) {
            throw refused(Refusal.FORBIDDEN, "stream " + member.id() + " subscribing to topic '" + topic
                    + "' is not allowed");
        }
        boolean full;
        synchronized (lock) {
            if (member.ended || member.subscriptions.containsKey(topic)) {
                return false;
            }
            Topic t = topics.get(topic);
            full = t != null && t.streams >= maxPerTopic;
            if (!full) {
                t = topicLocked(topic);
                t.streams++;
                subscribeLocked(member, t);
                member.topicsChanged();
            }
        }
        if (full) {
            throw refused(Refusal.TOPIC_LIMIT, "topic '" + topic + "' already has its maximum of " + maxPerTopic
                    + " subscribers; retry later");
        }
        tellListeners(l -> l.onSubscribe(member, topic));
        return true;
    }

    /**
     * Removes a subscription; returns false if the stream did not have it. Events published before this
     * call are still delivered; later ones are not. The stream stays open. (A stream that is reading a
     * backlog from the rings stops reading this topic's at once.)
     */
    public boolean unsubscribe(SseStream stream, String topic) {
        Member member = memberOf(stream);
        List<FanOut.Stripe> toStart = FanOut.newStartList();
        synchronized (lock) {
            Topic.Subscription sub = member.subscriptions.remove(topic);
            if (sub == null) {
                return false;
            }
            fanOut.unsubscribe(sub, seq, member.stripe, toStart);
            sub.topic.streams--;
            forgetIfUnusedLocked(sub.topic);
            member.topicsChanged();
        }
        fanOut.start(toStart);
        tellListeners(l -> l.onUnsubscribe(member, topic));
        return true;
    }

    /**
     * Ends, gracefully, every stream that follows {@code topic}, after the events already published to it
     * (the close goes through the same ordered mailbox), for example a task's progress stream once the task
     * published its last event. Returns how many streams it closes.
     */
    public int closeTopic(String topic, CloseReason reason, String detail) {
        List<FanOut.Stripe> toStart = FanOut.newStartList();
        CloseStatus status = new CloseStatus(reason, detail);
        int n = 0;
        synchronized (lock) {
            Topic t = topics.get(topic);
            if (t != null) {
                long after = seq;
                for (Set<Topic.Subscription> stripe : t.stripes) {
                    for (Topic.Subscription sub : stripe) {
                        Member m = sub.member;
                        fanOut.enqueue(m.stripe, (s, out) -> m.catchUp.closeAfter(after, status), toStart);
                        n++;
                    }
                }
            }
        }
        fanOut.start(toStart);
        return n;
    }

    /** The registry's record of one of its open streams, or empty. */
    public Optional<Subscriber> subscriber(StreamHandle stream) {
        return Optional.ofNullable(members.get(stream.id()));
    }

    private Member memberOf(SseStream stream) {
        Member member = members.get(Objects.requireNonNull(stream, "stream").id());
        if (member == null || member.stream != stream) {
            if (!stream.isOpen()) {
                throw new IllegalArgumentException("stream " + stream.id() + " has ended");
            }
            throw new IllegalArgumentException("stream " + stream.id() + " was not opened by this registry");
        }
        return member;
    }

    /**
     * Asks the authorizer about a later subscription with the stream's own request, which stays valid while
     * the stream is open (async processing). A stream that ended meanwhile may have a recycled request (the
     * containers then refuse to read it); it is not refused here: subscribe finds it ended and returns false.
     */
    private boolean refusedByAuthorizer(Member member, String topic) {
        if (!member.stream.isOpen()) {
            return false;
        }
        try {
            return !authorizer.permits(member.request, topic);
        } catch (RuntimeException e) {
            if (!member.stream.isOpen()) {
                return false;
            }
            throw e;
        }
    }

    /** A refusal decided under the lock, thrown (and reported to listeners) after releasing it. */
    private record Refused(Refusal refusal, String message) {
    }

    /** Under the lock: takes a place under every limit, or returns why not. */
    private Refused reserveLocked(String key, List<String> names) {
        if (state != State.OPEN) {
            return new Refused(Refusal.SHUTTING_DOWN, "the server is shutting down; reconnect later");
        }
        if (streams >= maxStreams) {
            return new Refused(Refusal.STREAM_LIMIT, "too many streams: the maximum of " + maxStreams
                    + " are open; retry later");
        }
        if (streamsPerClient.getOrDefault(key, 0) >= maxPerClient) {
            return new Refused(Refusal.CLIENT_LIMIT, "too many streams from this client: its maximum of "
                    + maxPerClient + " are open");
        }
        for (String name : names) {
            Topic t = topics.get(name);
            if (t != null && t.streams >= maxPerTopic) {
                return new Refused(Refusal.TOPIC_LIMIT, "topic '" + name + "' already has its maximum of "
                        + maxPerTopic + " subscribers; retry later");
            }
        }
        streams++;
        streamsPerClient.merge(key, 1, Integer::sum);
        for (String name : names) {
            topicLocked(name).streams++;
        }
        return null;
    }

    private void releaseLocked(String key, Collection<String> names) {
        streams--;
        streamsPerClient.computeIfPresent(key, (k, n) -> n == 1 ? null : n - 1);
        for (String name : names) {
            Topic t = topics.get(name);
            t.streams--;
            forgetIfUnusedLocked(t);
        }
    }

    /**
     * Under the lock: subscribes a new stream. With a {@code Last-Event-ID}, the stream first catches up from
     * its topics' rings after that id, by demand (see {@link CatchUp}), then goes live; an id it cannot resume
     * from gets a reset per topic.
     */
    private void attachLocked(Member member, List<String> names, String lastEventId, List<FanOut.Stripe> toStart) {
        if (lastEventId == null) {
            for (String name : names) {
                subscribeLocked(member, topics.get(name));
            }
            member.topicsChanged();
            return;
        }
        long resumeAfter = replayEvents > 0 ? resumePointLocked(lastEventId, names) : -1;
        if (cluster != null && replayEvents > 0 && !resumableLocked(resumeAfter, names)) {
            // Not in this instance's rings (the client was on another instance, or this one started since): the
            // stream reads the cluster's log first, then the rings after the registry's position.
            member.catchUp.beginFromCluster(lastEventId, names);
            link.resumeStarted();
            for (String name : names) {
                subscribeLocked(member, topics.get(name), clusterSeq, false);
            }
            member.topicsChanged();
            fanOut.enqueue(member.stripe, member.catchUp, toStart);
            return;
        }
        long from = resumeAfter >= 0 ? resumeAfter : seq;
        // Before the subscriptions are published: the fan-out must not hand this stream broadcasts meanwhile.
        member.catchUp.beginAfter(from);
        for (String name : names) {
            subscribeLocked(member, topics.get(name), from, resumeAfter < 0);
        }
        member.topicsChanged();
        fanOut.enqueue(member.stripe, member.catchUp, toStart);
    }

    private void subscribeLocked(Member member, Topic t) {
        subscribeLocked(member, t, seq, false);
    }

    private void subscribeLocked(Member member, Topic t, long joinedAfter, boolean resetDue) {
        Topic.Subscription sub = new Topic.Subscription(member, t, joinedAfter);
        sub.resetDue = resetDue;
        member.subscriptions.put(t.name, sub);
        t.stripes[member.stripe].add(sub);
    }

    /** Under the lock: whether every one of the topics' rings holds all its events after {@code after}. */
    private boolean resumableLocked(long after, List<String> names) {
        if (after < 0) {
            return false;
        }
        for (String name : names) {
            if (!topics.get(name).canResumeAfter(after)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Under the lock: the registry-wide number after which the client with this {@code Last-Event-ID}
     * needs events, or -1 if unknown (another registry's id, a number not yet issued, an application id
     * no ring holds).
     */
    private long resumePointLocked(String lastEventId, List<String> names) {
        int dash = lastEventId.lastIndexOf('-');
        if (dash > 0 && lastEventId.regionMatches(0, epoch, 0, dash) && dash == epoch.length()) {
            try {
                long n = Long.parseLong(lastEventId.substring(dash + 1));
                return n >= 0 && n <= seq ? n : -1;
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        for (String name : names) {
            long n = topics.get(name).seqOf(lastEventId);
            if (n >= 0) {
                return n;
            }
        }
        return -1;
    }

    /**
     * Runs once per stream, when it ends: removes its subscriptions and frees its places under the limits.
     * Listeners hear of it if they heard of its opening ({@code announced}).
     */
    private void ended(Member member, CloseStatus status, boolean announced) {
        List<String> names;
        synchronized (lock) {
            if (member.ended) {
                return;
            }
            member.ended = true;
            members.remove(member.id());
            names = new ArrayList<>(member.subscriptions.keySet());
            for (Topic.Subscription sub : member.subscriptions.values()) {
                sub.topic.stripes[member.stripe].remove(sub);
            }
            member.subscriptions.clear();
            releaseLocked(member.clientKey, names);
            member.topicsChanged();
        }
        closes.get(status.reason()).increment();
        if (!announced) {
            return; // Listeners never heard of this stream: it failed before onOpen.
        }
        for (String topic : names) {
            tellListeners(l -> l.onUnsubscribe(member, topic));
        }
        tellListeners(l -> l.onClose(member, status));
    }

    // ------------------------------------------------------------------ events

    /** Publishes an event with only data; see {@link #publish(String, SseEvent)}. */
    public String publish(String topic, String data) {
        return publish(topic, SseEvent.of(data));
    }

    /**
     * Publishes {@code event} to the topic's subscribers and returns at once. An event with data or a name and
     * no id is numbered by the registry; one with an id keeps it. Numbered events are retained for replay.
     * Events with neither data nor a name (a comment, a {@code retry} hint) are passed on as they are.
     *
     * @return the event's id, or null for an event passed on without one
     * @throws IllegalArgumentException if the topic name is invalid
     * @throws QueueFullException if the fan-out backlog is full (events published far faster than delivered)
     * @throws IllegalStateException after {@link #shutdown}
     */
    public String publish(String topic, SseEvent event) {
        if (cluster == null) {
            requireTopic(topic);
            return publishHere(topic, event, null);
        }
        publishAsync(topic, event); // A failure is counted and logged by the link.
        return null;
    }

    /**
     * Publishes {@code event} like {@link #publish(String, SseEvent)}, and returns a stage with its id. Without a
     * cluster it is complete at once; with one ({@link Builder#cluster}) it completes when the cluster took the
     * event (every instance then delivers it), or fails if the cluster did not, and nothing was delivered (unless
     * {@link Builder#deliverLocallyWhenClusterFails}: then it completes with this instance's own id).
     *
     * @throws IllegalArgumentException if the topic name is invalid
     * @throws IllegalStateException after {@link #shutdown}
     */
    public CompletionStage<String> publishAsync(String topic, SseEvent event) {
        requireTopic(topic);
        if (cluster != null) {
            requireOpen(topic);
            return link.publish(topic, event);
        }
        return CompletableFuture.completedFuture(publishHere(topic, event, null));
    }

    private void requireOpen(String topic) {
        synchronized (lock) {
            if (state == State.CLOSED) {
                throw new IllegalStateException("cannot publish to '" + topic + "': the registry was shut down");
            }
        }
    }

    /**
     * The cluster may have lost events for this instance: every topic's rings are forgotten (a resume from before
     * gets a reset), {@code from} becomes the registry's position; returns the topics that have streams here.
     */
    private List<String> forgetAllFromCluster(String from) {
        List<String> subscribed = new ArrayList<>();
        synchronized (lock) {
            clusterPosition = from;
            clusterSeq = seq;
            forgottenTopicsUpTo = seq;
            for (Topic t : topics.values()) {
                t.forgetAll();
                if (!t.isUnused()) {
                    subscribed.add(t.name);
                }
            }
            topics.values().removeIf(Topic::isUnused);
        }
        return subscribed;
    }

    /**
     * Numbers, retains and fans out an event on this instance; {@code clusterId} is the id the cluster gave it
     * (null without a cluster), which a numbered event carries instead of this registry's own.
     */
    private String publishHere(String topic, SseEvent event, String clusterId) {
        boolean numbered = event.id() == null && (event.data() != null || event.event() != null);
        byte[] body = ApiAccess.api().frame(event);
        List<FanOut.Stripe> toStart = FanOut.newStartList();
        String id;
        synchronized (lock) {
            if (state == State.CLOSED) {
                throw new IllegalStateException("cannot publish to '" + topic + "': the registry was shut down");
            }
            Topic t = topics.get(topic);
            if (t != null) {
                fanOut.checkRoom(t);
            }
            long n = ++seq;
            if (clusterId != null) {
                clusterPosition = clusterId;
                clusterSeq = n;
            }
            id = numbered ? (clusterId != null ? clusterId : eventId(n)) : event.id();
            byte[] frame = numbered ? SseEncoder.prependId(id, body) : body;
            if (id != null) {
                // A topic no stream here follows is retained only without a cluster: with one, its log serves resumes.
                if (t == null && replayEvents > 0 && cluster == null) {
                    t = topicLocked(topic);
                }
                if (t != null) {
                    t.lastSeq = n;
                    if (replayEvents > 0) {
                        t.retain(new Topic.Retained(n, id, frame, scheduler.nanoTime()), replayEvents, replayAgeNanos);
                    } else {
                        t.forgottenUpTo = n;
                    }
                }
            }
            if (t != null) {
                fanOut.broadcast(t, n, frame, id != null && replayEvents > 0, toStart);
            }
        }
        published.increment();
        fanOut.start(toStart);
        return id;
    }

    private String eventId(long n) {
        return epoch + "-" + n;
    }

    // ------------------------------------------------------------------ topics

    private Topic topicLocked(String name) {
        // With a cluster, events of a topic this instance did not follow passed by unretained: its ring starts now.
        long forgotten = cluster != null ? Math.max(forgottenTopicsUpTo, clusterSeq) : forgottenTopicsUpTo;
        return topics.computeIfAbsent(name, n -> new Topic(n, fanOut.stripes(), forgotten));
    }

    private void forgetIfUnusedLocked(Topic t) {
        if (t.isUnused()) {
            topics.remove(t.name);
            forgottenTopicsUpTo = Math.max(forgottenTopicsUpTo, t.lastSeq);
        }
    }

    /** Periodically, with an age limit: forgets expired events, and topics left with neither streams nor events. */
    private void sweep() {
        long now = scheduler.nanoTime();
        synchronized (lock) {
            for (Topic t : List.copyOf(topics.values())) {
                t.trim(now, replayEvents, replayAgeNanos);
                forgetIfUnusedLocked(t);
            }
        }
    }

    private List<String> requestedTopics(String[] names) {
        if (names == null || names.length == 0) {
            throw refused(Refusal.BAD_TOPIC, "a stream needs at least one topic");
        }
        List<String> list = new ArrayList<>(names.length);
        for (String name : names) {
            String problem = Topic.nameProblem(name);
            if (problem != null) {
                throw refused(Refusal.BAD_TOPIC, problem);
            }
            if (!list.contains(name)) {
                list.add(name);
            }
        }
        return list;
    }

    private static void requireTopic(String name) {
        String problem = Topic.nameProblem(name);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** Counts a refusal, tells the listeners, and returns the exception that answers the request. */
    private HandoffRejectedException refused(Refusal refusal, String message) {
        refusals.get(refusal).increment();
        log.debug("refused ({}): {}", refusal, message);
        tellListeners(l -> l.onRefused(refusal, message));
        return new HandoffRejectedException(refusal.status(), message, refusal.isTemporary() ? retryAfter : null);
    }

    // ------------------------------------------------------------------ introspection

    /** True until {@link #shutdown} begins. */
    public boolean isAccepting() {
        synchronized (lock) {
            return state == State.OPEN;
        }
    }

    /** Streams open now. */
    public int openStreams() {
        return members.size();
    }

    /** The number of streams subscribed to {@code topic} now. */
    public int subscribers(String topic) {
        synchronized (lock) {
            Topic t = topics.get(topic);
            return t == null ? 0 : t.subscribers();
        }
    }

    /** With a cluster ({@link Builder#cluster}), a snapshot of its state and counts; empty without one. */
    public Optional<ClusterStats> clusterStats() {
        return link == null ? Optional.empty() : Optional.of(link.stats());
    }

    /** A snapshot of the counts. */
    public RegistryStats stats() {
        Map<String, Integer> byTopic = new HashMap<>();
        long retained = 0;
        synchronized (lock) {
            for (Topic t : topics.values()) {
                int n = t.subscribers();
                if (n > 0) {
                    byTopic.put(t.name, n);
                }
                retained += t.retained();
            }
        }
        long queued = 0;
        long maxQueued = 0;
        for (Member m : members.values()) {
            long q = m.stream.connection().queuedBytes();
            queued += q;
            maxQueued = Math.max(maxQueued, q);
        }
        return new RegistryStats(members.size(), opened.sum(), byTopic, retained, published.sum(), fanOut.delivered.sum(),
                fanOut.dropped.sum(), bytesWritten.sum(), sums(closes), sums(refusals), fanOut.caughtUp.sum(), queued,
                maxQueued);
    }

    // ------------------------------------------------------------------ shutdown

    /** Shuts down with the builder's grace period and final event; see {@link #shutdown(Duration, SseEvent)}. */
    @Override
    public void close() {
        shutdown(shutdownGrace, shutdownEvent);
    }

    /**
     * Refuses new streams (503), sends {@code finalEvent} (if not null; give it a {@code retry} to tell
     * clients when to come back) to every open stream, closes each with {@link CloseReason#SHUTDOWN}, and
     * waits up to {@code grace} for their queued bytes to drain; streams still open then are aborted. Later
     * calls wait for nothing and return true. Publishing fails afterwards. With a
     * {@linkplain Builder#shutdownRetryJitter retry jitter}, each stream's {@code retry} is the event's plus a
     * random part up to the jitter, so that the clients of an instance do not all come back in the same second.
     *
     * @return true if every stream finished within the grace period
     */
    public boolean shutdown(Duration grace, SseEvent finalEvent) {
        Supplier<byte[]> frame = goodbyeFrames(finalEvent);
        List<Member> open;
        List<FanOut.Stripe> toStart = FanOut.newStartList();
        synchronized (lock) {
            if (state != State.OPEN) {
                return true;
            }
            state = State.STOPPING;
            open = List.copyOf(members.values());
            // Each stream's last event and close go through its mailbox, after what was published before.
            for (Member m : open) {
                fanOut.enqueue(m.stripe, (stripe, out) -> sayGoodbye(m, frame, out), toStart);
            }
        }
        if (sweep != null) {
            sweep.cancel(false);
        }
        long started = System.nanoTime();
        if (scheduler.executor().isShutdown()) {
            // No pool to run the mailboxes: say goodbye from here.
            open.forEach(m -> sayGoodbye(m, frame, fanOut));
        } else {
            fanOut.start(toStart);
        }
        List<CompletableFuture<CloseStatus>> ends = new ArrayList<>(open.size());
        for (Member m : open) {
            ends.add(m.stream.whenClosed().toCompletableFuture());
        }
        boolean drained = awaitAll(ends, grace);
        int aborted = 0;
        if (!drained) {
            for (Member m : open) {
                if (m.stream.closeStatus().isEmpty()) {
                    m.stream.abort(CloseReason.SHUTDOWN, "still sending when the " + grace.toMillis()
                            + " ms shutdown grace period ended");
                    aborted++;
                }
            }
        }
        synchronized (lock) {
            state = State.CLOSED;
        }
        if (cluster != null) {
            cluster.close();
        }
        log.info("stream registry shut down: {} streams closed in {} ms, {} aborted after the grace period",
                open.size(), (System.nanoTime() - started) / 1_000_000, aborted);
        return drained;
    }

    /** The final event's frame for each stream: one for all, or one per stream with its own jittered retry. */
    private Supplier<byte[]> goodbyeFrames(SseEvent finalEvent) {
        if (finalEvent == null) {
            return () -> null;
        }
        byte[] one = ApiAccess.api().frame(finalEvent);
        long jitterMillis = shutdownRetryJitter.toMillis();
        if (finalEvent.retry() == null || jitterMillis <= 0) {
            return () -> one;
        }
        return () -> ApiAccess.api().frame(withRetry(finalEvent,
                finalEvent.retry().plusMillis(ThreadLocalRandom.current().nextLong(jitterMillis + 1))));
    }

    private static SseEvent withRetry(SseEvent e, Duration retry) {
        SseEvent.Builder b = SseEvent.builder().retry(retry);
        if (e.id() != null) {
            b.id(e.id());
        }
        if (e.event() != null) {
            b.event(e.event());
        }
        if (e.data() != null) {
            b.data(e.data());
        }
        if (e.comment() != null) {
            b.comment(e.comment());
        }
        return b.build();
    }

    private static void sayGoodbye(Member m, Supplier<byte[]> finalFrames, FanOut out) {
        byte[] finalFrame = finalFrames.get();
        if (finalFrame != null) {
            // Owed, and small: queued whatever the room, so that a stream reading a backlog is not cut for it.
            out.counted(m.stream.connection().offerWithin(finalFrame, Long.MAX_VALUE, null));
        }
        m.stream.close(CloseReason.SHUTDOWN, "the server is shutting down");
    }

    private static boolean awaitAll(List<CompletableFuture<CloseStatus>> ends, Duration grace) {
        try {
            CompletableFuture.allOf(ends.toArray(CompletableFuture[]::new)).get(grace.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return true; // whenClosed never fails; nothing to wait for.
        }
    }

    // ------------------------------------------------------------------ helpers

    private void fanOutLag(long nanos) {
        if (!listeners.isEmpty()) {
            Duration lag = Duration.ofNanos(nanos);
            tellListeners(l -> l.onFanOut(lag));
        }
    }

    private void tellListeners(Consumer<RegistryListener> call) {
        for (RegistryListener l : listeners) {
            try {
                call.accept(l);
            } catch (RuntimeException e) {
                log.warn("registry listener {} failed", l, e);
            }
        }
    }

    private static <E extends Enum<E>> Map<E, LongAdder> counters(Class<E> type) {
        Map<E, LongAdder> map = new EnumMap<>(type);
        for (E e : type.getEnumConstants()) {
            map.put(e, new LongAdder());
        }
        return map;
    }

    private static <E extends Enum<E>> Map<E, Long> sums(Map<E, LongAdder> counters) {
        Map<E, Long> out = new HashMap<>();
        counters.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "StreamRegistry[" + state + ", " + members.size() + " streams, " + topics.size() + " topics, last "
                    + eventId(seq) + ", " + fanOut.pending() + " deliveries pending]";
        }
    }

    /**
     * Settings of a {@link StreamRegistry}. Defaults: replay of the last 256 events per topic for 5 minutes,
     * no stream limits, client key = remote address, {@code Retry-After} 5 s, the shared scheduler, 10 s
     * shutdown grace without a final event.
     */
    public static final class Builder {
        private StreamScheduler scheduler;
        private int replayEvents = 256;
        private Duration replayAge = Duration.ofMinutes(5);
        private int maxStreams = Integer.MAX_VALUE;
        private int maxPerTopic = Integer.MAX_VALUE;
        private int maxPerClient = Integer.MAX_VALUE;
        private Function<HttpServletRequest, String> clientKey = ServletRequest::getRemoteAddr;
        private Duration retryAfter = Duration.ofSeconds(5);
        private TopicAuthorizer authorizer = TopicAuthorizer.PERMIT_ALL;
        private final List<RegistryListener> listeners = new ArrayList<>();
        private UnaryOperator<StreamOptions> streamOptions = UnaryOperator.identity();
        private Duration shutdownGrace = Duration.ofSeconds(10);
        private SseEvent shutdownEvent;
        private Duration shutdownRetryJitter = Duration.ZERO;
        private Cluster cluster;
        private boolean deliverLocallyWhenClusterFails;

        private Builder() {
        }

        /**
         * Shares the registry's topics with the application's other instances through {@code cluster}: a publish
         * on any instance reaches the subscribers of every instance, in one order per topic. The registry starts
         * the cluster when it is built and closes it when it shuts down. {@code publish} then returns null (the id
         * comes from the cluster): {@link StreamRegistry#publishAsync} gives it.
         */
        public Builder cluster(Cluster cluster) {
            this.cluster = Objects.requireNonNull(cluster, "cluster");
            return this;
        }

        /**
         * With a cluster: a publish the cluster does not take (it is unreachable) is delivered to this instance's
         * subscribers, with an id of this registry's own, instead of failing; once the cluster takes publishes
         * again, a {@value StreamRegistry#RESET_EVENT} event for the topic goes through it, so that every
         * instance's subscribers and every later resume learn that the topic missed events. Default false: the
         * publish fails and no instance delivers it.
         */
        public Builder deliverLocallyWhenClusterFails(boolean deliverLocally) {
            this.deliverLocallyWhenClusterFails = deliverLocally;
            return this;
        }

        /** The pool for fan-out, heartbeats and time-outs; default {@link StreamScheduler#shared()}. The application closes it. */
        public Builder scheduler(StreamScheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * Each topic retains its last {@code events} events, none older than {@code maxAge}, for
         * {@code Last-Event-ID} replay. {@code events} 0 turns replay off (reconnecting clients then get a
         * {@value StreamRegistry#RESET_EVENT} event); {@code maxAge} zero means no age limit.
         */
        public Builder replay(int events, Duration maxAge) {
            if (events < 0) {
                throw new IllegalArgumentException("replay events must not be negative: " + events);
            }
            Objects.requireNonNull(maxAge, "maxAge");
            if (maxAge.isNegative()) {
                throw new IllegalArgumentException("replay maxAge must not be negative: " + maxAge);
            }
            this.replayEvents = events;
            this.replayAge = maxAge;
            return this;
        }

        /** Most streams open at once; more are refused with 503. */
        public Builder maxStreams(int max) {
            this.maxStreams = positive("maxStreams", max);
            return this;
        }

        /** Most subscribers of one topic; more are refused with 503. */
        public Builder maxStreamsPerTopic(int max) {
            this.maxPerTopic = positive("maxStreamsPerTopic", max);
            return this;
        }

        /** Most streams per client key (see {@link #clientKey}); more are refused with 429. */
        public Builder maxStreamsPerClient(int max) {
            this.maxPerClient = positive("maxStreamsPerClient", max);
            return this;
        }

        /** Who a request counts as for the per-client limit: default its remote address; a user name is typical. */
        public Builder clientKey(Function<HttpServletRequest, String> key) {
            this.clientKey = Objects.requireNonNull(key, "key");
            return this;
        }

        /** The {@code Retry-After} sent with 429 and 503 refusals. */
        public Builder retryAfter(Duration after) {
            this.retryAfter = Objects.requireNonNull(after, "after");
            return this;
        }

        public Builder authorizer(TopicAuthorizer authorizer) {
            this.authorizer = Objects.requireNonNull(authorizer, "authorizer");
            return this;
        }

        /** Adds a listener; listeners are called in the order added. */
        public Builder listener(RegistryListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Changes the options of the registry's streams, applied to the handoff's (the filter's) options. */
        public Builder streamOptions(UnaryOperator<StreamOptions> change) {
            this.streamOptions = Objects.requireNonNull(change, "change");
            return this;
        }

        /** What {@link StreamRegistry#close()} does: wait this long for streams to drain, after sending this event (or null). */
        public Builder shutdown(Duration grace, SseEvent finalEvent) {
            this.shutdownGrace = Objects.requireNonNull(grace, "grace");
            this.shutdownEvent = finalEvent;
            return this;
        }

        /**
         * At shutdown, each stream's final event gets a {@code retry} of the event's plus a random part from zero
         * to {@code jitter} (whole milliseconds), so that an instance's clients come back spread over that time
         * instead of in the same second. Zero (the default): every stream gets the event's {@code retry}.
         */
        public Builder shutdownRetryJitter(Duration jitter) {
            Objects.requireNonNull(jitter, "jitter");
            if (jitter.isNegative()) {
                throw new IllegalArgumentException("shutdownRetryJitter must not be negative: " + jitter);
            }
            this.shutdownRetryJitter = jitter;
            return this;
        }

        public StreamRegistry build() {
            return new StreamRegistry(this);
        }

        private static int positive(String name, int value) {
            if (value < 1) {
                throw new IllegalArgumentException(name + " must be at least 1: " + value);
            }
            return value;
        }

        @Override
        public String toString() {
            return "StreamRegistry.Builder[replay " + replayEvents + "/" + replayAge + ", limits " + maxStreams + "/"
                    + maxPerTopic + "/" + maxPerClient + ", " + listeners.size() + " listeners]";
        }
    }
}
