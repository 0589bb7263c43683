package dev.handoff.core.internal;

import dev.handoff.core.OverflowPolicy;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes a stream's application wrote that the container has not taken yet, bounded in bytes.
 *
 * <p>Not thread-safe: {@link Connection} guards it with its lock. Admission follows the stream's
 * {@link OverflowPolicy}; an empty queue admits any single write, so the memory held for a stream is at
 * most {@code max(bound, largest single write)}.
 */
final class OutboundQueue {

    /** What {@link #offer} did with a write. */
    enum Admission {
        /** Queued (after dropping older writes, under DROP_OLDEST). */
        QUEUED,
        /** Not queued: it does not fit and the policy is DISCONNECT. */
        OVERFLOW,
        /** Not queued: it does not fit and the policy is FAIL_WRITE. */
        REFUSED
    }

    private final ArrayDeque<Write> writes = new ArrayDeque<>();
    private int bound;
    private OverflowPolicy policy;
    private long bytes;
    private List<Write> dropped;

    OutboundQueue(int bound, OverflowPolicy policy) {
        this.bound = bound;
        this.policy = policy;
    }

    /**
     * Offers a write. Under DROP_OLDEST, writes discarded to make room are kept for {@link #takeDropped()},
     * so that the caller fails their completions after releasing its lock.
     */
    Admission offer(Write write) {
        if (!writes.isEmpty() && bytes + write.length() > bound) {
            switch (policy) {
                case DISCONNECT:
                    return Admission.OVERFLOW;
                case FAIL_WRITE:
                    return Admission.REFUSED;
                case DROP_OLDEST:
                    while (!writes.isEmpty() && bytes + write.length() > bound) {
                        Write oldest = writes.removeFirst();
                        bytes -= oldest.length();
                        if (dropped == null) {
                            dropped = new ArrayList<>(2);
                        }
                        dropped.add(oldest);
                    }
                    break;
                default:
                    throw new IllegalStateException("unknown policy " + policy);
            }
        }
        writes.addLast(write);
        bytes += write.length();
        return Admission.QUEUED;
    }

    /** The writes the last {@link #offer} dropped, or null; forgets them. */
    List<Write> takeDropped() {
        List<Write> d = dropped;
        dropped = null;
        return d;
    }

    /** Appends a write of a few bytes that must follow what is queued, whatever the bound (a heartbeat's end). */
    void push(Write write) {
        writes.addLast(write);
        bytes += write.length();
    }

    /** New admission rules for later offers (a stream taken by a request adopts its options); what is queued stays. */
    void rebound(int bound, OverflowPolicy policy) {
        this.bound = bound;
        this.policy = policy;
    }

    /** Removes and returns the oldest write, or null when empty. */
    Write poll() {
        Write w = writes.pollFirst();
        if (w != null) {
            bytes -= w.length();
        }
        return w;
    }

    /** The oldest write, left in place, or null when empty. */
    Write peek() {
        return writes.peekFirst();
    }

    /** Removes every write, adding them to {@code into}. */
    void drainTo(List<Write> into) {
        into.addAll(writes);
        writes.clear();
        bytes = 0;
    }

    boolean isEmpty() {
        return writes.isEmpty();
    }

    long bytes() {
        return bytes;
    }

    int size() {
        return writes.size();
    }

    int bound() {
        return bound;
    }
}
