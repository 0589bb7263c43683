package dev.handoff.registry;

import dev.handoff.core.CloseStatus;
import dev.handoff.core.SseEvent;
import dev.handoff.core.internal.ApiAccess;
import dev.handoff.core.internal.Connection;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stream's cursor into its topics' replay rings: how a backlog reaches a stream by demand.
 *
 * <p><b>The problem.</b> A client that reconnects with {@code Last-Event-ID} may have missed a thousand
 * events; a subscriber hit by a burst may be handed more than its queue holds. Queuing all of it at once
 * cuts a client that is keeping up, only because its queue is bounded.
 *
 * <p><b>The approach.</b> The stream does not take live broadcasts while it catches up
 * ({@link Member#catchingUp}); it reads its topics' rings instead, from a cursor (a registry-wide event
 * number), one page at a time, each page no larger than the room in its queue. When the queue is full, the
 * connection keeps this object as its room callback ({@link Connection#offerWithin}) and runs it once the
 * client has taken half; the next page is then read on the stream's fan-out stripe. When a page finds
 * nothing more, the stream goes live under the registry's lock, at the registry's last event number: events
 * up to it came from the rings, later ones come as broadcasts. So the bound limits what a slow reader
 * holds, never what a catch-up may send, and there is no gap and no duplicate at the switch.
 *
 * <pre>
 *            reconnect with Last-Event-ID,
 *   LIVE ──── or a broadcast found no room ───▶ CATCHING UP ──┐ a page; no room: wait for the connection's
 *    ▲                                              │  ▲        │ room callback, then the next page
 *    └──────── a page found nothing more ───────────┘  └────────┘
 * </pre>
 *
 * <p>A topic whose ring was trimmed past the cursor (the id was older than the ring, unknown, from another
 * registry, or the ring overtook a reader slower than the publisher) gets a {@value StreamRegistry#RESET_EVENT}
 * event, and its events up to that moment are skipped: the client reloads that topic's state. The reset's
 * id is the position the stream has reached, so a reconnect with it resumes every topic correctly.
 *
 * <p>With a cluster, a client whose {@code Last-Event-ID} the rings do not hold reads the cluster's log first
 * ({@link ClusterResume}), and this reads the rings after where that part ended.
 *
 * <p>Threads: pages run on the stream's stripe only, one at a time (one entry in its mailbox, or one room
 * callback, never both), so {@link #cursor} and {@link #closeAt} are touched by that stripe alone; the rings
 * and subscriptions are read under the registry's lock.
 */
final class CatchUp implements FanOut.Entry, Runnable {

    private static final Logger log = LoggerFactory.getLogger(CatchUp.class);
    /** Pages one visit to the stripe may queue before it lets the stripe's other streams go first. */
    private static final int PAGES_PER_VISIT = 4;

    /** What a catch-up needs of its registry. */
    interface Log {
        /** The lock that guards the rings, the subscriptions and the last event number. */
        Object lock();

        /** Under {@link #lock()}: the number of the registry's last event. */
        long lastSeqLocked();

        /** The id the registry gives the event numbered {@code seq}. */
        String idOf(long seq);

        /** The registry's cluster, or null. */
        Cluster cluster();

        /**
         * Under {@link #lock()}, with a cluster: the registry's position in the cluster's order (every event up to
         * it was delivered here, or came before this instance started; later ones will be).
         */
        String clusterPositionLocked();

        /** Under {@link #lock()}, with a cluster: the local number of the last event delivered up to that position. */
        long clusterSeqLocked();
    }

    private final Member member;
    private final Log registry;
    private final FanOut fanOut;
    /** The most bytes a page fills the stream's queue to; the rest is room for the application's own writes. */
    private final long fillTo;

    // ---- Touched by the stream's stripe only (see the class description).
    /** Every event for the stream numbered up to this was queued (or skipped by a reset). */
    private long cursor;
    /** A closeTopic came while catching up: close the stream once the cursor reaches this; -1 for none. */
    private long closeAt = -1;
    private CloseStatus closeWith;
    /** Reading from the cluster first ({@link #beginFromCluster}); null once the stream reads the rings. */
    private ClusterResume fromCluster;

    CatchUp(Member member, Log registry, FanOut fanOut) {
        this.member = member;
        this.registry = registry;
        this.fanOut = fanOut;
        this.fillTo = Math.max(1, member.stream.connection().queueBound() / 2);
    }

    /**
     * Under the registry's lock, before the stream's subscriptions are published: the stream reads from
     * its rings after {@code seq} instead of taking broadcasts. The caller queues this in the stripe.
     */
    void beginAfter(long seq) {
        cursor = seq;
        member.catchingUp = true;
    }

    /**
     * As {@link #beginAfter}, for a client whose {@code lastEventId} this instance's rings do not hold: the
     * stream first reads its topics' events from the registry's cluster ({@link ClusterResume}), then the rings.
     */
    void beginFromCluster(String lastEventId, List<String> topics) {
        fromCluster = new ClusterResume(member, registry, registry.cluster(), lastEventId, topics, this);
        member.catchingUp = true;
    }

    /**
     * On the stripe, from the fan-out: a broadcast numbered {@code firstMissed} found no room, and the
     * connection already keeps this object as its room callback. Every earlier event was queued.
     */
    void fallBehind(long firstMissed) {
        cursor = firstMissed - 1;
        member.catchingUp = true;
    }

    /**
     * On the stripe: ends the stream gracefully after the events numbered up to {@code seq} (closeTopic),
     * now if it is live, else once the catch-up reaches them.
     */
    void closeAfter(long seq, CloseStatus status) {
        if (!member.catchingUp) {
            member.stream.close(status.reason(), status.detail());
            return;
        }
        closeAt = seq;
        closeWith = status;
    }

    /** The connection has room again (its room callback, on the writer's thread): read on, on the stripe. */
    @Override
    public void run() {
        List<FanOut.Stripe> toStart = FanOut.newStartList();
        fanOut.enqueue(member.stripe, this, toStart);
        fanOut.start(toStart);
    }

    @Override
    public void deliver(int stripe, FanOut out) {
        if (fromCluster != null) {
            long after = fromCluster.step(out);
            if (after < 0) {
                return; // A read in flight, or no room: this runs again.
            }
            fromCluster = null;
            cursor = after;
        }
        Connection connection = member.stream.connection();
        for (int pages = 0; pages < PAGES_PER_VISIT; pages++) {
            long room = Math.max(1, fillTo - connection.queuedBytes());
            Page page;
            synchronized (registry.lock()) {
                if (member.ended) {
                    return;
                }
                page = nextPageLocked(room);
            }
            if (page == null) {
                return; // Live again.
            }
            if (page.close) {
                member.stream.close(closeWith.reason(), closeWith.detail());
                return;
            }
            for (String topic : page.resets) {
                byte[] frame = ApiAccess.api().frame(SseEvent.builder().id(page.resetId).event(StreamRegistry.RESET_EVENT).data(topic)
                        .build());
                // Tiny, and owed: queued whatever the room, like a heartbeat.
                out.counted(connection.offerWithin(frame, Long.MAX_VALUE, null));
            }
            if (!page.resets.isEmpty()) {
                log.debug("stream {}: could not resume {} from its position; sent {} events", member.id(), page.resets,
                        StreamRegistry.RESET_EVENT);
            }
            cursor = page.resumeAfter;
            for (Topic.Retained r : page.events) {
                Connection.Delivery d = connection.offerWithin(r.frame(), fillTo, this);
                if (d == Connection.Delivery.FULL) {
                    return; // The connection runs this again once the client took half of its queue.
                }
                out.countedCatchUp(d);
                if (d == Connection.Delivery.CLOSED) {
                    return;
                }
                cursor = r.seq();
            }
        }
        // Still reading: behind the stripe's other work, so that one long backlog does not hold it.
        run();
    }

    /** What one page queues: resets first, then events, oldest first. */
    private record Page(List<String> resets, String resetId, List<Topic.Retained> events, long resumeAfter,
            boolean close) {
    }

    /**
     * Under the registry's lock: the next events after the cursor on the stream's topics, up to about
     * {@code room} bytes (at least one event), and the resets owed; or, when there are none, the switch:
     * null once the stream is live again, or a closing page when a closeTopic waits.
     */
    private Page nextPageLocked(long room) {
        long last = registry.lastSeqLocked();
        long horizon = closeAt >= 0 ? Math.min(closeAt, last) : last;
        List<Topic.Subscription> subs = new ArrayList<>(member.subscriptions.values());
        List<String> resets = new ArrayList<>(0);
        for (Topic.Subscription sub : subs) {
            long after = Math.max(cursor, sub.joinedAfter);
            if (sub.resetDue || !sub.topic.canResumeAfter(after)) {
                // Its events up to now are skipped: the client reloads the topic's state.
                resets.add(sub.topic.name);
                sub.resetDue = false;
                sub.joinedAfter = Math.max(sub.joinedAfter, horizon);
            }
        }
        List<Topic.Retained> events = collectLocked(subs, horizon, room);
        if (events.isEmpty() && resets.isEmpty()) {
            if (closeAt >= 0) {
                return new Page(List.of(), null, List.of(), horizon, true);
            }
            for (Topic.Subscription sub : subs) {
                sub.joinedAfter = Math.max(sub.joinedAfter, last);
            }
            member.catchingUp = false;
            return null;
        }
        // Nothing for the stream lies between the cursor and its next event: the reset may name that position.
        long position = events.isEmpty() ? horizon : events.get(0).seq() - 1;
        return new Page(resets, registry.idOf(position), events, position, false);
    }

    /** The retained events after the cursor, up to {@code horizon}, merged in publish order over the topics. */
    private List<Topic.Retained> collectLocked(List<Topic.Subscription> subs, long horizon, long room) {
        int n = subs.size();
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            Topic.Subscription sub = subs.get(i);
            next[i] = sub.topic.indexAfter(Math.max(cursor, sub.joinedAfter));
        }
        List<Topic.Retained> events = new ArrayList<>();
        long bytes = 0;
        while (true) {
            int pick = -1;
            long pickSeq = Long.MAX_VALUE;
            for (int i = 0; i < n; i++) {
                Topic t = subs.get(i).topic;
                if (next[i] < t.retained()) {
                    long seq = t.get(next[i]).seq();
                    if (seq < pickSeq) {
                        pickSeq = seq;
                        pick = i;
                    }
                }
            }
            if (pick < 0 || pickSeq > horizon) {
                return events;
            }
            Topic.Retained r = subs.get(pick).topic.get(next[pick]);
            if (!events.isEmpty() && bytes + r.frame().length > room) {
                return events;
            }
            events.add(r);
            bytes += r.frame().length;
            next[pick]++;
        }
    }

    @Override
    public String toString() {
        return "CatchUp[stream " + member.id() + (fromCluster != null ? ", " + fromCluster
                : member.catchingUp ? ", after " + cursor : ", live")
                + (closeAt >= 0 ? ", closing after " + closeAt : "") + "]";
    }
}
