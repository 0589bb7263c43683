package dev.handoff.registry;

import dev.handoff.core.SseEvent;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A registry's side of its {@link Cluster}: publishes go to the cluster, what the cluster hands back is delivered
 * here, and what the cluster lost is reset here. Counts what a health check and the meters show.
 *
 * <p><b>While the cluster cannot take a publish</b> the publish fails, or, with local delivery turned on
 * ({@link StreamRegistry.Builder#deliverLocallyWhenClusterFails}) and a publish the cluster certainly did not
 * take ({@link ClusterRefusedException}), it is delivered to this instance's subscribers only, with an id of this
 * registry's own. A publish whose outcome is unknown (a time-out) fails either way. The topic is then marked: once the cluster takes
 * publishes again, a {@value StreamRegistry#RESET_EVENT} event for it goes through the cluster, so that every
 * instance's subscribers, and every later resume across that point, learn that the topic's history has a hole.
 */
final class ClusterLink implements Cluster.Deliveries {

    private static final Logger log = LoggerFactory.getLogger(ClusterLink.class);
    /** How often a marked topic's reset is offered to the cluster again, and how often failures are logged. */
    private static final long RETRY_MILLIS = 1_000;
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** What the link needs of its registry. */
    interface Local {
        /** Numbers, retains and fans out an event on this instance; {@code clusterId} null for a local one. */
        String publishHere(String topic, SseEvent event, String clusterId);

        /** Forgets every ring and takes {@code from} as the registry's position; returns the topics with streams. */
        List<String> forgetAll(String from);

        void tellListeners(Consumer<RegistryListener> call);

        ScheduledExecutorService executor();
    }

    final Cluster cluster;
    private final boolean deliverLocally;
    private final Local local;

    private final LongAdder resets = new LongAdder();
    private final LongAdder publishFailures = new LongAdder();
    private final LongAdder localDeliveries = new LongAdder();
    private final LongAdder resumes = new LongAdder();
    /** Topics that had events only this instance delivered, whose reset the cluster has not taken yet. */
    private final Set<String> unshared = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean retrying = new AtomicBoolean();
    private final AtomicLong lastFailureLog = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);
    private final AtomicLong failuresNotLogged = new AtomicLong();

    ClusterLink(Cluster cluster, boolean deliverLocally, Local local) {
        this.cluster = cluster;
        this.deliverLocally = deliverLocally;
        this.local = local;
    }

    /**
     * Sends the event to every instance; the stage completes with its id once the cluster took it. If it did not:
     * the stage fails, or, with local delivery on, the event goes to this instance's subscribers and the stage
     * completes with the local id.
     */
    CompletionStage<String> publish(String topic, SseEvent event) {
        CompletionStage<String> sent;
        try {
            sent = cluster.publish(topic, event);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.handle((id, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(id);
            }
            publishFailures.increment();
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
                    : failure;
            if (!deliverLocally || !(cause instanceof ClusterRefusedException)) {
                // Without local delivery; or the outcome is unknown (the cluster may still take it, and delivering it
                // here as well could deliver it twice).
                logFailure(topic, cause, cause instanceof ClusterRefusedException ? "not delivered anywhere"
                        : "the cluster may still deliver it");
                return CompletableFuture.<String>failedFuture(cause);
            }
            logFailure(topic, cause, "delivered on this instance only");
            String localId = local.publishHere(topic, event, null);
            localDeliveries.increment();
            if (unshared.add(topic)) {
                scheduleRetry();
            }
            return CompletableFuture.completedFuture(localId);
        }).thenCompose(stage -> stage);
    }

    @Override
    public void deliver(String topic, String id, SseEvent event, long publishedMillis) {
        try {
            local.publishHere(topic, event, id);
        } catch (RuntimeException e) {
            // Shut down, or this instance's fan-out is full: its subscribers miss the event, the others do not.
            log.warn("event {} of '{}' from the cluster not delivered here: {}", id, topic, e.toString());
            return;
        }
        if (publishedMillis > 0) {
            Duration lag = Duration.ofMillis(Math.max(0, System.currentTimeMillis() - publishedMillis));
            local.tellListeners(l -> l.onClusterDelivery(topic, lag));
        }
    }

    /**
     * Every topic's rings are forgotten (a resume from before gets a reset) and every subscribed topic's streams get
     * a reset event now, after what they were sent; its id is the position, so a reconnect with it, on any
     * instance, resumes from there.
     */
    @Override
    public void lost(String why, String from) {
        resets.increment();
        List<String> subscribed = local.forgetAll(from);
        log.warn("the cluster may have lost events for this instance ({}): {} topics reset", why, subscribed.size());
        for (String topic : subscribed) {
            try {
                local.publishHere(topic, resetEvent(topic), from);
            } catch (RuntimeException e) {
                log.warn("could not send {} to the subscribers of '{}': {}", StreamRegistry.RESET_EVENT, topic,
                        e.toString());
            }
        }
    }

    /** A stream began reading the cluster's log (its id was not in this instance's rings). */
    void resumeStarted() {
        resumes.increment();
    }

    ClusterStats stats() {
        Cluster.Status s = cluster.status();
        return new ClusterStats(s.connected(), s.position(), s.reconnects(), resets.sum(), publishFailures.sum(),
                localDeliveries.sum(), unshared.size(), resumes.sum(), s.details());
    }

    /** Offers each marked topic's reset to the cluster, every second, until it took them all. */
    private void scheduleRetry() {
        if (!retrying.compareAndSet(false, true)) {
            return;
        }
        try {
            local.executor().schedule(this::shareResets, RETRY_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException shutDown) {
            retrying.set(false);
        }
    }

    private void shareResets() {
        retrying.set(false);
        for (String topic : List.copyOf(unshared)) {
            CompletionStage<String> sent;
            try {
                sent = cluster.publish(topic, resetEvent(topic));
            } catch (RuntimeException closed) {
                return;
            }
            sent.whenComplete((id, failure) -> {
                if (failure == null) {
                    unshared.remove(topic);
                    log.info("'{}' had events only this instance delivered; the cluster took its {} ({})", topic,
                            StreamRegistry.RESET_EVENT, id);
                } else {
                    scheduleRetry();
                }
            });
        }
    }

    private static SseEvent resetEvent(String topic) {
        return SseEvent.builder().event(StreamRegistry.RESET_EVENT).data(topic).build();
    }

    /** A warning at most every ten seconds while publishes fail, with how many failed in between. */
    private void logFailure(String topic, Throwable failure, String outcome) {
        long now = System.nanoTime();
        long last = lastFailureLog.get();
        if (now - last < LOG_EVERY_NANOS || !lastFailureLog.compareAndSet(last, now)) {
            failuresNotLogged.incrementAndGet();
            return;
        }
        long others = failuresNotLogged.getAndSet(0);
        log.warn("publish to '{}' failed, {}: the cluster did not take it: {}{}", topic, outcome, failure.toString(),
                others > 0 ? " (and " + others + " other publishes since the last warning)" : "");
    }

    @Override
    public String toString() {
        return "ClusterLink[" + cluster + (deliverLocally ? ", delivering locally when it fails" : "") + "]";
    }
}
