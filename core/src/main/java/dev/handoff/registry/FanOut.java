package dev.handoff.registry;

import dev.handoff.core.QueueFullException;
import dev.handoff.core.internal.Connection;
import dev.handoff.core.internal.OwnerLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a registry's events to its streams on the scheduler's pool, so that {@code publish} returns at
 * once and one topic's ten thousand subscribers are served by every pool thread, not by one.
 *
 * <p><b>Stripes.</b> Each stream belongs to one stripe (by its id), and each topic keeps its subscriptions
 * per stripe. A stripe has a FIFO mailbox and at most one task on the pool at a time; the registry
 * appends to the mailboxes under its lock, in the order it numbers events. So every stream receives its
 * events in publish order, whatever the topic. Different stripes run in parallel. A stream that catches up
 * (see {@link CatchUp}) skips broadcasts and reads the rings through its own entries in the same mailbox,
 * one page at a time, as its queue drains.
 *
 * <p><b>Runs.</b> Events of one topic that wait in a mailbox back to back (a burst of publishes, or a
 * backlog behind a slow delivery) go to each stream as one write of their joined frames, built once per
 * stripe, up to {@link Connection#JOIN_BYTES}: the per-event cost of a container write, a flush and a socket
 * write is paid once per run.
 *
 * <p>A stripe's owner ({@link OwnerLoop} on the pool) delivers a bounded batch of entries and then hands the
 * thread back to the pool (it yields and is queued again), so heartbeat sweeps and other stripes are not
 * starved by a long backlog. The mailboxes are bounded: {@code publish} fails fast when one holds
 * {@code maxPending} entries.
 */
final class FanOut {

    private static final Logger log = LoggerFactory.getLogger(FanOut.class);
    /** Entries a stripe delivers before giving its thread back to the pool. */
    private static final int BATCH = 32;
    /** Work for one stripe: an event for the stripe's subscribers of a topic, or a page of one stream's catch-up. */
    interface Entry {
        void deliver(int stripe, FanOut fanOut);
    }

    private final Stripe[] stripes;
    private final Executor executor;
    private final int maxPending;
    final LongAdder delivered = new LongAdder();
    final LongAdder dropped = new LongAdder();
    /** Events queued to a stream from the rings, by a catch-up (also counted in {@link #delivered}). */
    final LongAdder caughtUp = new LongAdder();
    private final LongSupplier nanoClock;
    /** Told, for each event a stripe delivered, how long after its publish the stripe's live streams had it queued. */
    private final LongConsumer lagNanos;

    FanOut(int stripeCount, Executor executor, int maxPending) {
        this(stripeCount, executor, maxPending, System::nanoTime, lag -> { });
    }

    FanOut(int stripeCount, Executor executor, int maxPending, LongSupplier nanoClock, LongConsumer lagNanos) {
        this.executor = executor;
        this.maxPending = maxPending;
        this.nanoClock = nanoClock;
        this.lagNanos = lagNanos;
        this.stripes = new Stripe[stripeCount];
        for (int i = 0; i < stripeCount; i++) {
            stripes[i] = new Stripe(i);
        }
    }

    int stripes() {
        return stripes.length;
    }

    int stripeOf(long streamId) {
        return (int) (streamId % stripes.length);
    }

    /** Under the registry's lock: fails if a mailbox that this topic's event would enter is full. */
    void checkRoom(Topic topic) {
        for (int i = 0; i < stripes.length; i++) {
            if (!topic.stripes[i].isEmpty() && stripes[i].pending() >= maxPending) {
                throw new QueueFullException("cannot publish to '" + topic.name + "': the fan-out backlog holds "
                        + maxPending + " events (publishing faster than the pool delivers)");
            }
        }
    }

    /**
     * Under the registry's lock: queues a numbered event for every stripe where the topic has subscribers.
     * {@code retained}: the topic's ring keeps it, so a stream without room for it can read it from there.
     */
    void broadcast(Topic topic, long seq, byte[] frame, boolean retained, List<Stripe> toStart) {
        Entry entry = null;
        for (int i = 0; i < stripes.length; i++) {
            if (!topic.stripes[i].isEmpty()) {
                if (entry == null) {
                    entry = new Broadcast(topic, seq, frame, retained, nanoClock.getAsLong());
                }
                stripes[i].add(entry, toStart);
            }
        }
    }

    /** Under the registry's lock: queues work for one stripe. */
    void enqueue(int stripe, Entry entry, List<Stripe> toStart) {
        stripes[stripe].add(entry, toStart);
    }

    /** After releasing the registry's lock: starts the stripes that {@link #broadcast} or {@link #enqueue} woke. */
    void start(List<Stripe> toStart) {
        for (Stripe s : toStart) {
            s.submit();
        }
    }

    long pending() {
        long n = 0;
        for (Stripe s : stripes) {
            n += s.pending();
        }
        return n;
    }

    /** Counts one delivery that was decided (queued, or dropped); a FULL one is not decided yet and is not counted here. */
    void counted(Connection.Delivery delivery) {
        if (delivery == Connection.Delivery.QUEUED) {
            delivered.increment();
        } else {
            dropped.increment();
        }
    }

    /** As {@link #counted}, for an event a catch-up read from a ring. */
    void countedCatchUp(Connection.Delivery delivery) {
        counted(delivery);
        if (delivery == Connection.Delivery.QUEUED) {
            caughtUp.increment();
        }
    }

    /** Under the registry's lock: ends a subscription after the events already queued for it, which it still gets. */
    void unsubscribe(Topic.Subscription sub, long lastSeq, int stripe, List<Stripe> toStart) {
        sub.leftAfter = lastSeq;
        stripes[stripe].add((s, fanOut) -> sub.topic.stripes[s].remove(sub), toStart);
    }

    private static final class Broadcast implements Entry {
        final Topic topic;
        final long seq;
        final byte[] frame;
        final boolean retained;
        final long publishedNanos;

        Broadcast(Topic topic, long seq, byte[] frame, boolean retained, long publishedNanos) {
            this.topic = topic;
            this.seq = seq;
            this.frame = frame;
            this.retained = retained;
            this.publishedNanos = publishedNanos;
        }

        /** Whether {@code next} can join a run that this entry starts, {@code runBytes} long so far. */
        boolean extendsRun(Entry next, int runBytes) {
            return next instanceof Broadcast b && b.topic == topic && b.retained == retained
                    && runBytes + b.frame.length <= Connection.JOIN_BYTES;
        }

        @Override
        public void deliver(int stripe, FanOut fanOut) {
            deliverRun(List.of(this), stripe, fanOut);
        }
    }

    /**
     * Delivers consecutive events of one topic to the stripe's subscribers. A subscriber that gets all of them
     * (nearly every one: only a stream that joined or left inside the run does not) gets them as few writes,
     * built once for the stripe: one container write and one flush per stream instead of one per event. The
     * writes are at most the stream's {@link Member#maxJoinedBytes} each (half its queue bound); streams with
     * the same bound share the same arrays. A stream that is catching up is skipped: it reads these events from
     * the ring at its own pace; and a stream without room for an event the ring keeps starts doing so
     * ({@link Member#deliverLive}), the rest of the run included.
     */
    private static void deliverRun(List<Broadcast> run, int stripe, FanOut fanOut) {
        Broadcast first = run.get(0);
        Broadcast last = run.get(run.size() - 1);
        Joins joins = new Joins(run);
        long queued = 0;
        long missed = 0;
        for (Topic.Subscription sub : first.topic.stripes[stripe]) {
            Member member = sub.member;
            if (member.catchingUp) {
                continue;
            }
            boolean whole = sub.covers(first.seq) && sub.covers(last.seq);
            for (Join join : whole ? joins.upTo(member.maxJoinedBytes) : joins.eachCoveredBy(sub)) {
                if (member.catchingUp) {
                    break; // An earlier write found no room: the rest comes from the ring.
                }
                Connection.Delivery d = member.deliverLive(join.frame(), join.firstSeq(), first.retained);
                if (d == Connection.Delivery.QUEUED) {
                    queued += join.events();
                } else if (d != Connection.Delivery.FULL) {
                    missed += join.events();
                }
            }
        }
        fanOut.delivered.add(queued);
        fanOut.dropped.add(missed);
        if (queued > 0) {
            long now = fanOut.nanoClock.getAsLong();
            for (Broadcast b : run) {
                fanOut.lagNanos.accept(now - b.publishedNanos);
            }
        }
    }

    /** Consecutive events of a run as one frame, numbered from the first. */
    private record Join(byte[] frame, long firstSeq, int events) {
    }

    /** A run's events joined into writes of at most a given size, made once per size and shared. */
    private static final class Joins {
        private final List<Broadcast> run;
        private int madeFor = -1;
        private List<Join> made;

        Joins(List<Broadcast> run) {
            this.run = run;
        }

        /** The run as writes of at most {@code maxBytes} (an event larger than that is a write of its own). */
        List<Join> upTo(int maxBytes) {
            if (maxBytes != madeFor) {
                made = split(maxBytes);
                madeFor = maxBytes;
            }
            return made;
        }

        /** One write per event the subscription covers: it joined or left inside the run. */
        List<Join> eachCoveredBy(Topic.Subscription sub) {
            List<Join> each = new ArrayList<>(run.size());
            for (Broadcast b : run) {
                if (sub.covers(b.seq)) {
                    each.add(new Join(b.frame, b.seq, 1));
                }
            }
            return each;
        }

        private List<Join> split(int maxBytes) {
            List<Join> joins = new ArrayList<>(2);
            int from = 0;
            while (from < run.size()) {
                int to = from + 1;
                int bytes = run.get(from).frame.length;
                while (to < run.size() && bytes + run.get(to).frame.length <= maxBytes) {
                    bytes += run.get(to).frame.length;
                    to++;
                }
                joins.add(new Join(to - from == 1 ? run.get(from).frame : concat(run.subList(from, to), bytes),
                        run.get(from).seq, to - from));
                from = to;
            }
            return joins;
        }
    }

    private static byte[] concat(List<Broadcast> events, int length) {
        byte[] joined = new byte[length];
        int at = 0;
        for (Broadcast b : events) {
            System.arraycopy(b.frame, 0, joined, at, b.frame.length);
            at += b.frame.length;
        }
        return joined;
    }

    /**
     * One stripe's mailbox and its owner: an {@link OwnerLoop} on the pool, so one pool thread at a time
     * delivers the stripe's entries, and a batch of {@link #BATCH} gives the thread back before the next.
     */
    final class Stripe implements OwnerLoop.Work {
        private final int index;
        private final ArrayDeque<Entry> mailbox = new ArrayDeque<>();
        private final OwnerLoop owner;

        Stripe(int index) {
            this.index = index;
            this.owner = new OwnerLoop("fan-out stripe " + index, this, executor);
        }

        /** Under the registry's lock: queues an entry; the stripe goes on the start list once per list. */
        void add(Entry entry, List<Stripe> toStart) {
            synchronized (this) {
                mailbox.addLast(entry);
            }
            if (!toStart.contains(this)) {
                toStart.add(this);
            }
        }

        synchronized int pending() {
            return mailbox.size();
        }

        /** After the registry's lock: every add is followed by this, so no entry waits for an owner. */
        void submit() {
            owner.run();
        }

        @Override
        public OwnerLoop.Next process() {
            int n = 0;
            while (n < BATCH) {
                Entry entry;
                List<Broadcast> run = null;
                synchronized (this) {
                    entry = mailbox.pollFirst();
                    if (entry == null) {
                        return OwnerLoop.Next.IDLE;
                    }
                    if (entry instanceof Broadcast first && first.extendsRun(mailbox.peekFirst(), first.frame.length)) {
                        // Events published back to back: one write per stream for all of them.
                        run = new ArrayList<>();
                        run.add(first);
                        int bytes = first.frame.length;
                        while (n + run.size() < BATCH && first.extendsRun(mailbox.peekFirst(), bytes)) {
                            Broadcast next = (Broadcast) mailbox.pollFirst();
                            run.add(next);
                            bytes += next.frame.length;
                        }
                    }
                }
                n += run == null ? 1 : run.size();
                try {
                    if (run == null) {
                        entry.deliver(index, FanOut.this);
                    } else {
                        deliverRun(run, index, FanOut.this);
                    }
                } catch (RuntimeException e) {
                    log.warn("fan-out stripe {}: delivery failed", index, e);
                }
            }
            // More may be waiting: queue behind whatever else the pool has to do.
            return OwnerLoop.Next.YIELD;
        }

        @Override
        public void refused(RejectedExecutionException e) {
            int lost;
            synchronized (this) {
                lost = mailbox.size();
                mailbox.clear();
            }
            log.warn("fan-out stripe {}: the scheduler's pool refused work ({}); {} queued deliveries dropped",
                    index, e.getMessage(), lost);
        }

        @Override
        public String toString() {
            return "Stripe[" + index + ", " + pending() + " pending, " + owner.state() + "]";
        }
    }

    static List<Stripe> newStartList() {
        return new ArrayList<>(2);
    }
}
