package dev.handoff.registry;

import dev.handoff.core.SseStream;
import dev.handoff.core.internal.Connection;
import dev.handoff.core.internal.DefaultSseStream;
import jakarta.servlet.http.HttpServletRequest;
import java.security.Principal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** A registry's record of one open stream: what {@link Subscriber} shows to listeners. */
final class Member implements Subscriber {

    final DefaultSseStream stream;
    final String clientKey;
    final Principal principal;
    /** The stream's request: valid while the stream is open (async processing), for the authorizer of later subscribes. */
    final HttpServletRequest request;
    /** The fan-out stripe that delivers to this stream: all its events go through one mailbox, in order. */
    final int stripe;
    /**
     * The longest run of joined events this stream takes as one write: half its queue bound. Under DISCONNECT, and
     * for events the ring keeps, a run that does not fit ends (or sends onto the ring) the stream exactly where the
     * same events one by one would have; half, not all, so that a joined write leaves room for the next. Measured
     * against a quarter (bench burst-1k, interleaved runs): 0.8x the CPU per delivery on Jetty, the same on Tomcat.
     */
    final int maxJoinedBytes;

    /** Where this stream reads a backlog by demand: after a reconnect, or when a broadcast found no room. */
    final CatchUp catchUp;
    /**
     * True while the stream reads its topics' rings through {@link #catchUp} instead of taking broadcasts.
     * Set before its subscriptions are published (a reconnect) or on its stripe (falling behind); cleared on
     * its stripe under the registry's lock; read by the fan-out on that stripe.
     */
    volatile boolean catchingUp;

    // ---- Guarded by the registry's lock.
    final Map<String, Topic.Subscription> subscriptions = new LinkedHashMap<>();
    boolean ended;

    /** A copy of the subscribed topic names, replaced under the registry's lock, read by anyone. */
    private volatile Set<String> topics = Set.of();

    Member(DefaultSseStream stream, String clientKey, HttpServletRequest request, int stripe, CatchUp.Log registry,
            FanOut fanOut) {
        this.stream = stream;
        this.clientKey = clientKey;
        this.request = request;
        this.principal = request.getUserPrincipal();
        this.stripe = stripe;
        this.maxJoinedBytes = stream.connection().queueBound() / 2;
        this.catchUp = new CatchUp(this, registry, fanOut);
    }

    /** Under the registry's lock, after {@link #subscriptions} changed. */
    void topicsChanged() {
        topics = Set.copyOf(subscriptions.keySet());
    }

    /**
     * On the stripe: queues a live broadcast whose first event is numbered {@code firstSeq}. An event the
     * rings keep ({@code retained}) never overflows the queue: where it does not fit, the stream falls behind
     * and reads on from the rings at its own pace ({@link Connection.Delivery#FULL}). Others go under the
     * stream's overflow policy.
     */
    Connection.Delivery deliverLive(byte[] frame, long firstSeq, boolean retained) {
        if (!retained) {
            return stream.connection().offerShared(frame);
        }
        Connection.Delivery d = stream.connection().offerWithin(frame, stream.connection().queueBound(), catchUp);
        if (d == Connection.Delivery.FULL) {
            catchUp.fallBehind(firstSeq);
        }
        return d;
    }

    @Override
    public long id() {
        return stream.id();
    }

    @Override
    public SseStream stream() {
        return stream;
    }

    @Override
    public Set<String> topics() {
        return topics;
    }

    @Override
    public String clientKey() {
        return clientKey;
    }

    @Override
    public Optional<Principal> principal() {
        return Optional.ofNullable(principal);
    }

    @Override
    public String toString() {
        return "Subscriber[" + id() + " " + clientKey + " " + topics + ", " + catchUp + "]";
    }
}
