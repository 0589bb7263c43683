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
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Writes the backend's chunks to the client, by demand: one chunk at a time, the next asked for when the
 * container took the last and is ready for more. However slow the client, an exchange holds one chunk of the
 * backend's body (the kernel's socket buffers on both sides keep a fast one streaming). A backend that sends
 * nothing for the idle time-out fails the exchange like any mid-body failure: the client's response is
 * aborted, not finished.
 */
final class ProxyRelay implements Flow.Subscriber<Upstream.Chunk>, Timed {

    private static final AtomicLong RELAYS = new AtomicLong();

    private final long id = RELAYS.incrementAndGet();
    private final DefaultByteStream out;
    private final StreamingProxy proxy;
    private final StreamingProxy.ProxyExchange exchange;
    private final StreamScheduler scheduler;
    private volatile long lastChunkNanos = System.nanoTime();
    private volatile Flow.Subscription subscription;
    /** Set by the first of the backend's end, a failure, the idle time-out and the client's end. */
    private final AtomicBoolean done = new AtomicBoolean();
    /** Bytes the container took; added by write completions. */
    private final LongAdder taken = new LongAdder();

    ProxyRelay(StreamingProxy proxy, DefaultByteStream out, StreamingProxy.ProxyExchange exchange,
            StreamScheduler scheduler) {
        this.proxy = proxy;
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
            // The end's reason first: cancelling may fail the body at once with the client's own error (the JDK
            // client on JDK 25 does), which must not be taken for the cause.
            onError(new HttpTimeoutException("no bytes from the backend for " + proxy.idleTimeout.toMillis()
                    + " ms (idle time-out)"));
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
        }
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (!out.isOpen()) {
            s.cancel();
            return;
        }
        s.request(1);
    }

    @Override
    public void onNext(Upstream.Chunk chunk) {
        lastChunkNanos = System.nanoTime();
        ByteBuffer data = chunk.data();
        int length = data.remaining();
        if (length == 0) {
            chunk.release().run();
            subscription.request(1);
            return;
        }
        Runnable release = chunk.release();
        byte[] array;
        int offset;
        if (data.hasArray()) {
            // Written in place: the chunk is released once the container is done with its bytes.
            array = data.array();
            offset = data.arrayOffset() + data.position();
        } else {
            array = new byte[length];
            offset = 0;
            data.get(array);
            release.run();
            release = Upstream.Chunk.KEEP;
        }
        CompletionStage<Void> written;
        try {
            written = out.writeOwned(array, offset, length);
        } catch (StreamClosedException gone) {
            subscription.cancel();
            return;
        }
        Runnable then = release;
        written.whenComplete((v, e) -> {
            if (e == null) {
                then.run();
                counted(length);
                subscription.request(1);
            } else {
                subscription.cancel();
            }
        });
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
    static final class Cancelling implements Flow.Subscriber<Upstream.Chunk> {
        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.cancel();
        }

        @Override
        public void onNext(Upstream.Chunk item) {
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onComplete() {
        }
    }
}
