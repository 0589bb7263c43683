package dev.handoff.core;

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
    /** The fan-out stripe that delivers to this stream: all its events go through one mailbox, in order. */
    final int stripe;
    /**
     * The longest run of joined events this stream takes as one write: a quarter of its queue bound, so that
     * joining never makes it overflow where the same events one by one would have fitted.
     */
    final int maxJoinedBytes;

    // ---- Guarded by the registry's lock.
    final Map<String, Topic.Subscription> subscriptions = new LinkedHashMap<>();
    boolean ended;

    /** A copy of the subscribed topic names, replaced under the registry's lock, read by anyone. */
    private volatile Set<String> topics = Set.of();

    Member(DefaultSseStream stream, String clientKey, Principal principal, int stripe) {
        this.stream = stream;
        this.clientKey = clientKey;
        this.principal = principal;
        this.stripe = stripe;
        this.maxJoinedBytes = stream.connection.queueBound() / 4;
    }

    /** Under the registry's lock, after {@link #subscriptions} changed. */
    void topicsChanged() {
        topics = Set.copyOf(subscriptions.keySet());
    }

    Connection.Delivery deliver(byte[] frame) {
        return stream.connection.offerShared(frame);
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
        return "Subscriber[" + id() + " " + clientKey + " " + topics + "]";
    }
}
