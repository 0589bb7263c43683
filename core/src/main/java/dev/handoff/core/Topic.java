package dev.handoff.core;

import java.util.ArrayDeque;
import java.util.List;
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
    private final ArrayDeque<Retained> ring = new ArrayDeque<>();

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
        ring.addLast(event);
        trim(event.publishedNanos(), maxEvents, maxAgeNanos);
    }

    /** Forgets events beyond the ring's size or older than its age limit (zero: no age limit). */
    void trim(long now, int maxEvents, long maxAgeNanos) {
        while (!ring.isEmpty() && (ring.size() > maxEvents
                || (maxAgeNanos > 0 && now - ring.peekFirst().publishedNanos() > maxAgeNanos))) {
            forgottenUpTo = ring.removeFirst().seq();
        }
    }

    /** True if every event of this topic after {@code seq} is still retained. */
    boolean canResumeAfter(long seq) {
        return forgottenUpTo <= seq;
    }

    /** Adds the retained events numbered after {@code seq}, oldest first. */
    void collectAfter(long seq, List<Retained> into) {
        for (Retained r : ring) {
            if (r.seq() > seq) {
                into.add(r);
            }
        }
    }

    /** The sequence number of the retained event with this (application-given) id, or -1. */
    long seqOf(String id) {
        for (Retained r : ring) {
            if (id.equals(r.id())) {
                return r.seq();
            }
        }
        return -1;
    }

    int retained() {
        return ring.size();
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
        return streams == 0 && ring.isEmpty();
    }

    /** A stream's subscription to a topic. Identity matters, not value: the stripe sets hold these. */
    static final class Subscription {
        final Member member;
        final Topic topic;
        /** The stream receives this topic's live events numbered after this; earlier ones came by replay, or not at all. */
        final long joinedAfter;
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
        return "Topic[" + name + ", " + streams + " streams, " + ring.size() + " retained, last " + lastSeq + "]";
    }
}
