package dev.handoff.registry;

import dev.handoff.core.SseEvent;
import java.util.concurrent.CompletionStage;

/**
 * Carries a registry's events between the instances of an application. With a cluster configured
 * ({@link StreamRegistry.Builder#cluster}), {@code publish} on any instance hands the event to the cluster, and
 * every instance, the publishing one included, delivers what the cluster hands back, in the cluster's order, to
 * its own subscribers: one order per topic across all publishers. Without one, nothing changes.
 *
 * <p>{@code handoff-redis} implements it on Redis Streams; another backend (Postgres, NATS) would implement the
 * same two calls.
 */
public interface Cluster extends AutoCloseable {

    /**
     * Starts handing every event published through the cluster from now on to {@code deliveries}, one at a time
     * and in the cluster's order. Called once, by the registry that is given this cluster.
     */
    void start(Deliveries deliveries);

    /**
     * Sends {@code event} to every instance. Returns at once, never blocking the caller; the stage completes with
     * the event's cluster-wide id when the cluster accepted it, or fails (the cluster unreachable, say): then no
     * instance delivers it.
     */
    CompletionStage<String> publish(String topic, SseEvent event);

    /** Stops handing events over and releases the cluster's connections. */
    @Override
    void close();

    /** The registry's side: where a cluster hands over the events it carries. */
    interface Deliveries {

        /**
         * One event, next in the cluster's order: delivered to this instance's subscribers of {@code topic}.
         * {@code id} is the cluster-wide id that numbered events carry (an event with an id of its own keeps it).
         */
        void deliver(String topic, String id, SseEvent event);

        /**
         * The cluster cannot vouch that this instance was handed every event since the last one delivered (the
         * cluster trimmed events this instance had not read yet, or lost its data): every topic's subscribers here
         * get a {@value StreamRegistry#RESET_EVENT} event, and no {@code Last-Event-ID} from before is resumed.
         */
        void lost(String why);
    }
}
