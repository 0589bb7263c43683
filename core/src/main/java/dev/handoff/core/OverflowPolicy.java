package dev.handoff.core;

/**
 * What a stream does when a write would take its outbound queue past {@link StreamOptions#maxQueuedBytes()}.
 *
 * <p>The queue holds bytes that were written by the application but not yet taken by the container,
 * typically because the client reads slower than the application writes. A write is always accepted when
 * the queue is empty, whatever its size, so a single large write never fails on its own.
 */
public enum OverflowPolicy {
    /**
     * Close the stream with {@link CloseReason#SLOW_CONSUMER}. The right choice for SSE with replay: the
     * client reconnects with {@code Last-Event-ID} and catches up, and the server never holds more than
     * the bound for it.
     */
    DISCONNECT,
    /**
     * Discard whole queued writes, oldest first, until the new one fits; their completions fail with
     * {@link QueueFullException}. A write in progress is never cut, so frames stay whole. For feeds where
     * only the latest state matters.
     */
    DROP_OLDEST,
    /**
     * Refuse the new write: its completion fails with {@link QueueFullException} and the stream stays
     * open. For producers that wait on each write's completion and can retry or skip.
     */
    FAIL_WRITE
}
