package dev.handoff.registry;

import dev.handoff.core.internal.SseEncoder;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One topic of a {@link StreamRegistry}: its subscriptions, split into the registry's fan-out stripes, and
 * its replay ring.
 *
 * <p>Everything here is guarded by the registry's lock, except the stripe sets: the fan-out threads
 * iterate them without it (weakly consistent iteration is enough, because a subscription added during
 * a fan-out joined after the event and skips it anyway; see {@link Subscription#joinedAfter}).
 */
final class Topic {

    /** One retained event: its registry-wide sequence number, id, and encoded frame (shared). */
    record Retained(long seq, String id, byte[] frame, long publishedNanos) {
    }

    /** Longest topic name, in characters. */
    static final int MAX_NAME_LENGTH = 200;

    final String name;
    final Set<Subscription>[] stripes;
    /** Streams subscribed or about to be (reserved by a request on its way to the handoff): the per-topic limit. */
    int streams;
    /** The sequence number of the topic's last event. */
    long lastSeq;
    /**
     * Every event of this topic numbered up to this is no longer retained: a client that resumes after an
     * older id may have missed some and is sent a reset instead.
     */
    long forgottenUpTo;
    /** The retained events, oldest first, in a circular array that grows up to the replay size. */
    private Retained[] ring = new Retained[8];
    private int head;
    private int size;

    @SuppressWarnings("unchecked")
    Topic(String name, int stripeCount, long forgottenUpTo) {
        this.name = name;
        this.forgottenUpTo = forgottenUpTo;
        this.stripes = new Set[stripeCount];
        for (int i = 0; i < stripeCount; i++) {
            stripes[i] = ConcurrentHashMap.newKeySet();
        }
    }

    void retain(Retained event, int maxEvents, long maxAgeNanos) {
        if (size == ring.length) {
            Retained[] grown = new Retained[ring.length * 2];
            for (int i = 0; i < size; i++) {
                grown[i] = get(i);
            }
            ring = grown;
            head = 0;
        }
        ring[(head + size) % ring.length] = event;
        size++;
        trim(event.publishedNanos(), maxEvents, maxAgeNanos);
    }

    /** Forgets events beyond the ring's size or older than its age limit (zero: no age limit). */
    void trim(long now, int maxEvents, long maxAgeNanos) {
        while (size > 0 && (size > maxEvents || (maxAgeNanos > 0 && now - ring[head].publishedNanos() > maxAgeNanos))) {
            forgottenUpTo = ring[head].seq();
            ring[head] = null;
            head = (head + 1) % ring.length;
            size--;
        }
        if (size == 0 && ring.length > 8) {
            ring = new Retained[8];
            head = 0;
        }
    }

    /** Forgets every retained event: no resume reaches back before the topic's last event. */
    void forgetAll() {
        forgottenUpTo = lastSeq;
        ring = new Retained[8];
        head = 0;
        size = 0;
    }

    /** True if every event of this topic after {@code seq} is still retained. */
    boolean canResumeAfter(long seq) {
        return forgottenUpTo <= seq;
    }

    /** The retained event at {@code index}, 0 being the oldest. */
    Retained get(int index) {
        return ring[(head + index) % ring.length];
    }

    /** The index of the oldest retained event numbered after {@code seq}, or {@link #retained()} if none is. */
    int indexAfter(long seq) {
        int low = 0;
        int high = size;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (get(mid).seq() <= seq) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /** The sequence number of the retained event with this (application-given) id, or -1. */
    long seqOf(String id) {
        for (int i = size - 1; i >= 0; i--) {
            Retained r = get(i);
            if (id.equals(r.id())) {
                return r.seq();
            }
        }
        return -1;
    }

    int retained() {
        return size;
    }

    int subscribers() {
        int n = 0;
        for (Set<Subscription> s : stripes) {
            n += s.size();
        }
        return n;
    }

    /** Neither streams nor retained events: the registry may forget the topic. */
    boolean isUnused() {
        return streams == 0 && size == 0;
    }

    /** A stream's subscription to a topic. Identity matters, not value: the stripe sets hold these. */
    static final class Subscription {
        final Member member;
        final Topic topic;
        /**
         * The stream receives this topic's events numbered after this; earlier ones came by replay, or not at
         * all. Moved forward under the registry's lock by the stream's {@link CatchUp} (a reset, going live);
         * read by the fan-out.
         */
        volatile long joinedAfter;
        /** The stream's catch-up owes it a reset for this topic (its id could not be resumed). Registry's lock. */
        boolean resetDue;
        /**
         * Set when unsubscribed: events numbered up to this are still delivered (they were published while
         * subscribed), later ones are not. The fan-out removes the subscription once it has passed them.
         */
        volatile long leftAfter = Long.MAX_VALUE;

        Subscription(Member member, Topic topic, long joinedAfter) {
            this.member = member;
            this.topic = topic;
            this.joinedAfter = joinedAfter;
        }

        /** Whether the event numbered {@code seq} is for this subscription. */
        boolean covers(long seq) {
            return joinedAfter < seq && seq <= leftAfter;
        }
    }

    /**
     * Topic names are 1 to {@value #MAX_NAME_LENGTH} characters from {@code A-Z a-z 0-9 - _ . ~ : / @ + =},
     * so that they are safe in URLs, logs and metric tags. Returns what is wrong, or null.
     */
    static String nameProblem(String name) {
        if (name == null || name.isEmpty()) {
            return "a topic name must not be empty";
        }
        if (name.length() > MAX_NAME_LENGTH) {
            return "topic name is " + name.length() + " characters long; the maximum is " + MAX_NAME_LENGTH;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-_.~:/@+=".indexOf(c) >= 0;
            if (!ok) {
                return String.format("topic name %s has the character U+%04X at index %d; allowed are letters, "
                        + "digits and - _ . ~ : / @ + =", SseEncoder.quote(name), (int) c, i);
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "Topic[" + name + ", " + streams + " streams, " + size + " retained, last " + lastSeq + "]";
    }
}
