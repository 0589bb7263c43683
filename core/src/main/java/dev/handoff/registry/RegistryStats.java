package dev.handoff.registry;

import dev.handoff.core.CloseReason;
import java.util.Map;

/**
 * A snapshot of a {@link StreamRegistry}'s counts, for metrics and health checks. The counters only grow,
 * from the registry's creation.
 *
 * @param openStreams streams registered and not ended
 * @param streamsOpened streams registered since the registry was created
 * @param subscribersByTopic each topic that has subscribers, with how many
 * @param retainedEvents events held in the replay rings, over all topics
 * @param eventsPublished events passed to {@code publish}
 * @param eventsDelivered (event, stream) pairs queued to a stream, replays included
 * @param eventsDropped (event, stream) pairs not queued because the stream's queue was full or it had ended
 * @param bytesWritten bytes the container took from the registry's streams (events, heartbeats, direct sends)
 * @param closes streams ended, by reason
 * @param refusals streams and subscriptions refused, by cause
 * @param eventsCaughtUp (event, stream) pairs queued from a replay ring by a catch-up (a reconnect with
 *        {@code Last-Event-ID}, or a stream that fell behind live delivery); also in {@code eventsDelivered}
 * @param queuedBytes bytes queued in the open streams and not yet taken by the container, over all of them, now
 * @param maxQueuedBytes the most bytes one open stream has queued, now
 */
public record RegistryStats(int openStreams, long streamsOpened, Map<String, Integer> subscribersByTopic, long retainedEvents,
        long eventsPublished, long eventsDelivered, long eventsDropped, long bytesWritten,
        Map<CloseReason, Long> closes, Map<Refusal, Long> refusals, long eventsCaughtUp, long queuedBytes,
        long maxQueuedBytes) {

    public RegistryStats {
        subscribersByTopic = Map.copyOf(subscribersByTopic);
        closes = Map.copyOf(closes);
        refusals = Map.copyOf(refusals);
    }
}
