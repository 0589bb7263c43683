package dev.handoff.registry;

import dev.handoff.core.SseEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * Carries a registry's events between the instances of an application. With a cluster configured
 * ({@link StreamRegistry.Builder#cluster}), {@code publish} on any instance hands the event to the cluster, and
 * every instance, the publishing one included, delivers what the cluster hands back, in the cluster's order, to
 * its own subscribers: one order per topic across all publishers. The cluster also keeps each topic's recent
 * events, so that a client resumes on any instance, whichever instance it was connected to before.
 *
 * <p>Positions: every event the cluster carries has an id, its position in the cluster's order. Ids are strings
 * the registry never parses; it only sends them to clients, hands them back to {@link #read}, and compares two of
 * them with {@link #isAtOrAfter}.
 *
 * <p>{@code handoff-redis} implements it on Redis Streams; another backend (Postgres, NATS) would implement the
 * same calls.
 */
public interface Cluster extends AutoCloseable {

    /**
     * Starts handing every event published through the cluster from now on to {@code deliveries}, one at a time
     * and in the cluster's order, and keeping each topic's events as {@code replay} says for {@link #read}. Called
     * once, by the registry that is given this cluster.
     *
     * @return the position after which events are handed to {@code deliveries}: every event up to it was published
     *         before this instance started (and is read through {@link #read}, not delivered)
     */
    String start(Deliveries deliveries, Replay replay);

    /**
     * Sends {@code event} to every instance. Returns at once, never blocking the caller; the stage completes with
     * the event's id when the cluster accepted it, or fails (the cluster unreachable, say): then no instance
     * delivers it.
     */
    CompletionStage<String> publish(String topic, SseEvent event);

    /**
     * Reads the kept events of some topics, each after its own position (a client's {@code Last-Event-ID}, or
     * where an earlier page ended), at most about {@code count} of them. Returns at once; the stage completes with
     * the page, or fails if the cluster could not be read (then the caller cannot vouch for anything after the
     * positions). Never blocks the caller.
     */
    CompletionStage<LogPage> read(Map<String, String> after, int count);

    /**
     * True if {@code position} is {@code other} or comes after it in the cluster's order. Ids from different
     * histories (the cluster lost its data in between) are not ordered: false.
     */
    boolean isAtOrAfter(String position, String other);

    /** What the cluster says about itself now, for health checks and metrics. Cheap: no call to the backend. */
    Status status();

    /** Stops handing events over and releases the cluster's connections. */
    @Override
    void close();

    /**
     * A cluster's own view of itself.
     *
     * @param connected whether it can publish and is reading the events of the other instances now
     * @param position the position of the last event it handed over (or where it started)
     * @param reconnects how many times it lost its backend and got it back
     * @param details what else a health check should show (backend address, names of its keys), as text
     */
    record Status(boolean connected, String position, long reconnects, Map<String, String> details) {
        public Status {
            details = Map.copyOf(details);
        }
    }

    /** How many events the cluster keeps per topic, and for how long (zero: no age limit); events 0 keeps none. */
    record Replay(int events, Duration maxAge) {
        public Replay {
            Objects.requireNonNull(maxAge, "maxAge");
        }
    }

    /** One kept event of a topic: its position ({@code id}) and the event as published. */
    record Logged(String topic, String id, SseEvent event) {
    }

    /**
     * A page of kept events, read by {@link #read}.
     *
     * @param events the events of the topics read, after each one's position and up to {@code coveredTo}, in the
     *        cluster's order: every kept event of those topics in that range is here, except those of {@code lost}
     * @param coveredTo a position of the cluster's current history: the page holds what there was up to it
     * @param lost the topics whose events after the position asked may not all be kept (trimmed, expired, or the
     *        position is from another history, unknown, or not an id of this cluster): their events up to
     *        {@code coveredTo} are not in the page, and their subscribers must reload them
     */
    record LogPage(List<Logged> events, String coveredTo, Set<String> lost) {
        public LogPage {
            events = List.copyOf(events);
            Objects.requireNonNull(coveredTo, "coveredTo");
            lost = Set.copyOf(lost);
        }
    }

    /** The registry's side: where a cluster hands over the events it carries. */
    interface Deliveries {

        /**
         * One event, next in the cluster's order: delivered to this instance's subscribers of {@code topic}.
         * {@code id} is its position, the id that numbered events carry (an event with an id of its own keeps it);
         * {@code publishedMillis} when the cluster took it (epoch milliseconds, its clock), or 0 if unknown: what
         * the registry measures the cluster's lag by.
         */
        void deliver(String topic, String id, SseEvent event, long publishedMillis);

        /**
         * The cluster cannot vouch that this instance was handed every event since the last one delivered (the
         * cluster trimmed events this instance had not read yet, or lost its data): every topic's subscribers here
         * get a {@value StreamRegistry#RESET_EVENT} event. Events after {@code from}, a position of the cluster's
         * current history, are handed over from now on.
         */
        void lost(String why, String from);
    }
}
