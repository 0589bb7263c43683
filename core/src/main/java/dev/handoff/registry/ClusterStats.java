package dev.handoff.registry;

import java.util.Map;

/**
 * A snapshot of a registry's cluster ({@link StreamRegistry#clusterStats()}), for health checks and metrics. The
 * counters only grow, from the registry's creation.
 *
 * @param connected whether the cluster can publish and is reading the other instances' events now
 * @param position the position in the cluster's order of the last event delivered here (or where it started)
 * @param reconnects how many times the cluster lost its backend and got it back
 * @param resets how many times the cluster could not vouch for what this instance was handed (it trimmed events
 *        this instance had not read, or lost its data), each answered by a {@value StreamRegistry#RESET_EVENT}
 *        to every subscribed topic
 * @param publishFailures publishes the cluster did not take
 * @param localDeliveries of those, the ones delivered on this instance only
 *        ({@link StreamRegistry.Builder#deliverLocallyWhenClusterFails})
 * @param unsharedTopics topics with events only this instance delivered, whose reset the cluster has not taken yet
 * @param resumes streams that resumed from the cluster's log (their {@code Last-Event-ID} was not in this
 *        instance's rings)
 * @param details what the cluster adds about itself (its backend, its keys)
 */
public record ClusterStats(boolean connected, String position, long reconnects, long resets, long publishFailures,
        long localDeliveries, int unsharedTopics, long resumes, Map<String, String> details) {

    public ClusterStats {
        details = Map.copyOf(details);
    }
}
