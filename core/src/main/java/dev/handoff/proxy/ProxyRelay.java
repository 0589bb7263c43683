package dev.handoff.proxy;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.StreamClosedException;
import dev.handoff.core.StreamScheduler;
import dev.handoff.core.internal.ApiAccess;
import dev.handoff.core.internal.DefaultByteStream;
import dev.handoff.core.internal.FailureText;
import dev.handoff.core.internal.Timed;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Writes the backend's chunks to the client, asking for more as the container takes them. A backend that
 * sends nothing for the idle time-out fails the exchange like any mid-body failure: the client's
 * response is aborted, not finished.
 */
final class ProxyRelay implements Flow.Subscriber<List<ByteBuffer>>, Timed {

    /** Backend response chunks (lists of buffers) asked for ahead of the container taking the previous ones. */
    private static final int IN_FLIGHT = 8;
    private static final AtomicLong RELAYS = new AtomicLong();

    private final long id = RELAYS.incrementAndGet();
    private final DefaultByteStream out;
    private final StreamingProxy proxy;
    private final StreamingProxy.ProxyExchange exchange;
    private final StreamScheduler scheduler;
    /** The upstream hands each buffer's whole array over: it is written as it is, not copied. */
    private final boolean ownedBuffers;
    private volatile long lastChunkNanos = System.nanoTime();
    private volatile Flow.Subscription subscription;
    /** Set by the first of the backend's end, a failure, the idle time-out and the client's end. */
    private final AtomicBoolean done = new AtomicBoolean();
    /** Bytes the container took; added by write completions. */
    private final LongAdder taken = new LongAdder();

    ProxyRelay(StreamingProxy proxy, DefaultByteStream out, StreamingProxy.ProxyExchange exchange,
            StreamScheduler scheduler, boolean ownedBuffers) {
        this.proxy = proxy;
        this.ownedBuffers = ownedBuffers;
        this.out = out;
        this.exchange = exchange;
        this.scheduler = scheduler;
        ApiAccess.api().register(scheduler, this);
        out.onClose(this::clientEnded);
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public void tick(long now) {
        if (!done.get() && now - lastChunkNanos >= proxy.idleTimeout.toNanos()) {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            onError(new HttpTimeoutException("no bytes from the backend for " + proxy.idleTimeout.toMillis()
                    + " ms (idle time-out)"));
        }
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (!out.isOpen()) {
            s.cancel();
            return;
        }
        s.request(IN_FLIGHT);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        lastChunkNanos = System.nanoTime();
        // One copy of the whole chunk into an array the stream owns, one write, one completion.
        int size = 0;
        for (ByteBuffer item : items) {
            size += item.remaining();
        }
        if (size == 0) {
            subscription.request(1);
            return;
        }
        byte[] chunk = wholeArray(items);
        if (chunk == null) {
            chunk = new byte[size];
            int at = 0;
            for (ByteBuffer item : items) {
                int n = item.remaining();
                item.get(chunk, at, n);
                at += n;
            }
        }
        int length = size;
        CompletionStage<Void> written;
        try {
            written = out.writeOwned(chunk, length);
        } catch (StreamClosedException gone) {
            subscription.cancel();
            return;
        }
        written.whenComplete((v, e) -> {
            if (e == null) {
                counted(length);
                subscription.request(1);
            } else {
                subscription.cancel();
            }
        });
    }

    /** The array of a single handed-over buffer that spans all of it, or null where the bytes must be copied. */
    private byte[] wholeArray(List<ByteBuffer> items) {
        if (!ownedBuffers || items.size() != 1) {
            return null;
        }
        ByteBuffer b = items.get(0);
        return b.hasArray() && b.arrayOffset() == 0 && b.position() == 0 && b.limit() == b.array().length ? b.array()
                : null;
    }

    /** Bytes the container took so far. */
    long bytes() {
        return taken.sum();
    }

    private void counted(int n) {
        taken.add(n);
        proxy.bytesToClient.add(n);
    }

    @Override
    public void onError(Throwable t) {
        if (!done.compareAndSet(false, true)) {
            return;
        }
        ApiAccess.api().unregister(scheduler, this);
        if (out.isOpen()) {
            // The stream's end is the one log line: it says why.
            out.abort(CloseReason.ERROR, "the backend " + exchange.target + " failed mid-body after " + bytes()
                    + " bytes: " + FailureText.brief(t));
            proxy.abortedMidBody.increment();
        }
        exchange.end(t);
    }

    @Override
    public void onComplete() {
        if (!done.compareAndSet(false, true)) {
            return;
        }
        ApiAccess.api().unregister(scheduler, this);
        out.close();
        out.whenClosed().thenAccept(status -> exchange.end(status.reason() == CloseReason.COMPLETED ? null
                : new StreamClosedException("the client's stream ended " + status, status)));
    }

    /** The client's stream ended: if the backend is still sending, stop it at once. */
    private void clientEnded(CloseStatus status) {
        if (done.compareAndSet(false, true)) {
            ApiAccess.api().unregister(scheduler, this);
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            exchange.end(new StreamClosedException("the client's stream ended " + status, status));
        }
    }

    /** Discards a backend body that is not relayed, by cancelling it at once. */
    static final class Cancelling implements Flow.Subscriber<List<ByteBuffer>> {
        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.cancel();
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onComplete() {
        }
    }
}
