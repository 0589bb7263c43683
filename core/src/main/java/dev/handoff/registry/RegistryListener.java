package dev.handoff.registry;

import dev.handoff.core.CloseStatus;
import java.time.Duration;

/**
 * Hears what happens to a {@link StreamRegistry}'s streams, for audit, metrics or application state. Every
 * method has a no-op default. Calls are made outside the registry's locks, on the thread that caused them
 * (a request thread, a publisher, a container or scheduler thread): keep them short and non-blocking.
 *
 * <p>For one stream, {@code onOpen} comes first, then its {@code onSubscribe} calls, and
 * {@code onClose} last, exactly once; no call follows it. An exception thrown by a listener is logged
 * and does not affect the stream. To refuse a subscription, use a {@link TopicAuthorizer}.
 */
public interface RegistryListener {

    /** A stream was opened and registered, before its first subscriptions are reported. */
    default void onOpen(Subscriber subscriber) {
    }

    /** {@code subscriber} now receives the events published to {@code topic}. */
    default void onSubscribe(Subscriber subscriber, String topic) {
    }

    /** {@code subscriber} no longer receives {@code topic}'s events (unsubscribed, or its stream ended). */
    default void onUnsubscribe(Subscriber subscriber, String topic) {
    }

    /** The stream ended; its subscriptions are gone. The last call for this subscriber. */
    default void onClose(Subscriber subscriber, CloseStatus status) {
    }

    /**
     * With a cluster: an event published on some instance (this one included) arrived here through the cluster,
     * {@code lag} after the cluster took it (by the cluster's clock and this machine's: skewed clocks skew it).
     * Called once per event, on the cluster's thread, before the event is queued to this instance's streams.
     */
    default void onClusterDelivery(String topic, Duration lag) {
    }

    /**
     * An event reached the live streams of one of the registry's stripes (its pool's share of the streams):
     * {@code lag} after it was published, every stream of that stripe that follows its topic and keeps up had it
     * queued (the container writes it next). Called once per event and stripe with such a stream, on the
     * stripe's thread: keep it cheap. Streams catching up from a ring are not counted here.
     */
    default void onFanOut(Duration lag) {
    }

    /** A request for a stream was refused, before anything was committed; {@code message} is what the client got. */
    default void onRefused(Refusal refusal, String message) {
    }
}
