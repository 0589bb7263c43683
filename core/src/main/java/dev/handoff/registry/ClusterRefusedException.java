package dev.handoff.registry;

/**
 * A publish the cluster did not take, for certain: it was never sent (the cluster is disconnected, or too many
 * publishes await its answer) or the backend refused it (Redis at its memory limit, say). No instance delivers
 * it. A publish whose outcome is unknown (the backend did not answer in time, but may still take it) fails with
 * another exception, and is never delivered locally in its place: that could deliver it twice.
 */
public class ClusterRefusedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ClusterRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
