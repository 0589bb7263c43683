package dev.handoff.registry;

import dev.handoff.core.SseEvent;
import dev.handoff.core.internal.ApiAccess;
import dev.handoff.core.internal.Connection;
import dev.handoff.core.internal.SseEncoder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first part of a stream's catch-up on a registry with a {@link Cluster}: the client resumes after an id this
 * instance's rings do not hold (it was connected to another instance, or this one started after the event), so
 * its topics' events are read from the cluster's log, one page at a time, by demand, until the pages reach what
 * this instance has delivered; then the stream reads on from the rings ({@link CatchUp}'s own part).
 *
 * <p><b>The switch.</b> The registry knows its position in the cluster's order: every event up to it was delivered
 * here (or came before this instance started), and every later one will be, numbered after the position's local
 * number. A page says up to which position it holds every kept event of the stream's topics ({@code coveredTo}).
 * Once that reaches the registry's position (checked under the registry's lock), the page's events up to the
 * position are the last from the cluster, and the stream reads the rings after the position's local number: no
 * gap and no duplicate, whichever side an event in flight ends up on.
 *
 * <p><b>Demand.</b> One read at a time, for about as many events as fill the stream's queue to half its bound; a
 * page whose events do not all fit waits in {@link #held} for the connection's room callback (this catch-up), so a
 * stream holds at most one page beyond its queue. A topic the cluster cannot resume (trimmed, expired, an id of
 * another history) gets a {@value StreamRegistry#RESET_EVENT} event and goes on from the page's end; a cluster
 * that cannot be read at all resets every topic still being read, and the stream goes on from the registry's
 * position.
 *
 * <p>Threads: like {@link CatchUp}, on the stream's stripe only, except {@link #arrived}, set by the thread that
 * completes the read.
 */
final class ClusterResume {

    private static final Logger log = LoggerFactory.getLogger(ClusterResume.class);
    /** Events the first read asks for, before any is seen; later reads size themselves by the events' bytes. */
    private static final int FIRST_COUNT = 16;
    /** Most events one read asks for. */
    private static final int MAX_COUNT = 256;

    private final Member member;
    private final CatchUp.Log registry;
    private final Cluster cluster;
    private final Runnable next;
    private final long fillTo;
    /** The topics read from the cluster. */
    private final List<String> topics;
    /**
     * The position after which their events are owed: the client's id, then where the last page ended (a page
     * covers every topic read up to the same position, so one cursor serves them all).
     */
    private String cursor;

    /** Frames of the last page not queued yet (no room), oldest first, from {@link #heldIndex}. */
    private List<byte[]> held = List.of();
    private int heldIndex;
    private boolean reading;
    /** How many topics the read in flight asked for (those still subscribed). */
    private int asked;
    /** The page of the read in flight, once it completed (set by the completing thread). */
    private volatile Read arrived;
    /** Decided: once {@link #held} is queued, the stream reads the rings after this local number; -1 until then. */
    private long switchAt = -1;
    private int count = FIRST_COUNT;
    private long frames;
    private long frameBytes;

    /** A read's outcome: a page, or why there is none. */
    private record Read(Cluster.LogPage page, Throwable failure) {
    }

    /**
     * @param next runs the catch-up again, on the stripe (it is also the connection's room callback)
     */
    ClusterResume(Member member, CatchUp.Log registry, Cluster cluster, String lastEventId, Collection<String> topics,
            Runnable next) {
        this.member = member;
        this.registry = registry;
        this.cluster = cluster;
        this.next = next;
        this.fillTo = Math.max(1, member.stream.connection().queueBound() / 2);
        this.topics = List.copyOf(topics);
        this.cursor = lastEventId;
    }

    /**
     * On the stripe: queues what it can and reads on. Returns the local event number after which the stream reads
     * the rings once this part is done, or -1 while it is not (a read in flight, or no room: {@code next} runs
     * again).
     */
    long step(FanOut out) {
        while (member.stream.isOpen()) {
            if (!queueHeld(out)) {
                return -1;
            }
            if (switchAt >= 0) {
                return switchAt;
            }
            Read read = arrived;
            if (read == null) {
                if (!reading) {
                    startRead();
                }
                return -1;
            }
            arrived = null;
            reading = false;
            take(read);
        }
        return -1;
    }

    private void startRead() {
        Set<String> subscribed = member.topics();
        Map<String, String> ask = new LinkedHashMap<>();
        for (String topic : topics) {
            if (subscribed.contains(topic)) {
                ask.put(topic, cursor);
            }
        }
        reading = true;
        asked = ask.size();
        if (ask.isEmpty()) {
            arrived = new Read(null, null); // Unsubscribed from all of them meanwhile: nothing to read.
            next.run();
            return;
        }
        try {
            cluster.read(ask, count).whenComplete((page, failure) -> {
                arrived = new Read(page, failure);
                next.run();
            });
        } catch (RuntimeException e) {
            arrived = new Read(null, e);
            next.run();
        }
    }

    /** Turns a page into frames to queue, and decides whether it is the last. */
    private void take(Read read) {
        List<byte[]> frames = new ArrayList<>();
        if (read.page == null) {
            String position;
            synchronized (registry.lock()) {
                switchAt = registry.clusterSeqLocked();
                position = registry.clusterPositionLocked();
            }
            if (read.failure != null) {
                log.debug("stream {}: the cluster could not be read ({}); resetting {}", member.id(), read.failure.toString(),
                        topics);
                for (String topic : topics) {
                    frames.add(resetFrame(topic, position));
                }
            }
            hold(frames);
            return;
        }
        Cluster.LogPage page = read.page;
        List<String> resets = new ArrayList<>(0);
        for (String topic : topics) {
            if (page.lost().contains(topic)) {
                resets.add(topic);
            }
        }
        // A reconnect with a reset's id resumes the other topics where they were: their events come after it. When
        // none could be resumed, the cursor is no position of this history, and the page's end is the one to give.
        String resetId = resets.size() < asked ? cursor : page.coveredTo();
        cursor = page.coveredTo();
        String upTo;
        synchronized (registry.lock()) {
            String position = registry.clusterPositionLocked();
            if (cluster.isAtOrAfter(page.coveredTo(), position)) {
                // The last page: what comes after the position is delivered here, and read from the rings.
                switchAt = registry.clusterSeqLocked();
                upTo = position;
            } else {
                upTo = null;
            }
        }
        if (!resets.isEmpty()) {
            log.debug("stream {}: the cluster cannot resume {} from its position; sending {} events", member.id(),
                    resets, StreamRegistry.RESET_EVENT);
            for (String topic : resets) {
                frames.add(resetFrame(topic, resetId));
            }
        }
        Set<String> subscribed = member.topics();
        for (Cluster.Logged e : page.events()) {
            if (upTo != null && !cluster.isAtOrAfter(upTo, e.id())) {
                break; // Delivered here after the position: the rings have it.
            }
            if (subscribed.contains(e.topic())) {
                frames.add(frameOf(e));
            }
        }
        hold(frames);
    }

    private void hold(List<byte[]> frames) {
        held = frames;
        heldIndex = 0;
        for (byte[] f : frames) {
            this.frames++;
            frameBytes += f.length;
        }
        if (this.frames > 0) {
            long average = Math.max(1, frameBytes / this.frames);
            count = (int) Math.max(1, Math.min(MAX_COUNT, fillTo / average));
        }
    }

    /** Queues the held frames while they fit; false if one did not (the connection runs {@code next} later). */
    private boolean queueHeld(FanOut out) {
        Connection connection = member.stream.connection();
        while (heldIndex < held.size()) {
            byte[] frame = held.get(heldIndex);
            Connection.Delivery d = connection.offerWithin(frame, fillTo, next);
            if (d == Connection.Delivery.FULL) {
                return false;
            }
            out.counted(d);
            if (d == Connection.Delivery.CLOSED) {
                return false;
            }
            heldIndex++;
        }
        held = List.of();
        return true;
    }

    private static byte[] frameOf(Cluster.Logged e) {
        SseEvent event = e.event();
        byte[] body = ApiAccess.api().frame(event);
        return event.id() == null ? SseEncoder.prependId(e.id(), body) : body;
    }

    private static byte[] resetFrame(String topic, String id) {
        return ApiAccess.api().frame(SseEvent.builder().id(id).event(StreamRegistry.RESET_EVENT).data(topic).build());
    }

    @Override
    public String toString() {
        return "from the cluster after " + cursor + " on " + topics + (reading ? ", reading" : "")
                + (held.size() > heldIndex ? ", " + (held.size() - heldIndex) + " held" : "");
    }
}
