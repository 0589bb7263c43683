package dev.handoff.core;

/**
 * Fails the completion of a write that did not fit the stream's outbound queue: refused under
 * {@link OverflowPolicy#FAIL_WRITE}, or discarded to make room under {@link OverflowPolicy#DROP_OLDEST}.
 * The stream stays open.
 */
public final class QueueFullException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public QueueFullException(String message) {
        super(message);
    }
}
