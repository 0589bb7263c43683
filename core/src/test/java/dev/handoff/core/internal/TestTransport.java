package dev.handoff.core.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory container output for unit tests of the writer: readiness is controlled by the test, every
 * call checks that no other thread is inside, and a hook can run inside {@code isReady()} to force a race
 * at exactly that point.
 */
public final class TestTransport implements Transport {

    public final ByteArrayOutputStream written = new ByteArrayOutputStream();
    public final AtomicBoolean ready = new AtomicBoolean(true);
    public final AtomicInteger flushes = new AtomicInteger();
    public final AtomicInteger writeCalls = new AtomicInteger();
    public final AtomicInteger isReadyCalls = new AtomicInteger();
    /** The array of every write, as the writer passed it: shows whether a frame was copied or shared. */
    public final List<byte[]> arrays = new CopyOnWriteArrayList<>();
    public final AtomicInteger completes = new AtomicInteger();
    public final AtomicInteger overlaps = new AtomicInteger();
    public volatile IOException failWrites;
    /** False: the next flush leaves bytes behind, as a container whose socket took only part; isReady() turns false. */
    public volatile boolean readyAfterFlush = true;
    /** False: the next write is left pending, as Jetty's non-blocking output holds a large one; isReady() turns false. */
    public volatile boolean readyAfterWrite = true;
    /** True: writes are copied as they are taken (as Tomcat's output), so their arrays are free when write returns. */
    public volatile boolean copiesWrites;
    public volatile Runnable insideIsReady;
    /** Runs when the writer completes the response, as the servlet transport completes its exchange. */
    public volatile Runnable onComplete;
    private final AtomicInteger inside = new AtomicInteger();

    @Override
    public boolean isReady() {
        enter();
        isReadyCalls.incrementAndGet();
        try {
            boolean r = ready.get();
            Runnable hook = insideIsReady;
            if (hook != null) {
                insideIsReady = null;
                hook.run();
            }
            return r;
        } finally {
            leave();
        }
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        enter();
        try {
            if (failWrites != null) {
                throw failWrites;
            }
            synchronized (written) {
                written.write(bytes, offset, length);
            }
            writeCalls.incrementAndGet();
            arrays.add(bytes);
            if (!readyAfterWrite) {
                readyAfterWrite = true;
                ready.set(false);
            }
        } finally {
            leave();
        }
    }

    @Override
    public boolean holdsWrittenArrays() {
        return !copiesWrites;
    }

    @Override
    public void flush() throws IOException {
        enter();
        try {
            if (failWrites != null) {
                throw failWrites;
            }
            flushes.incrementAndGet();
            if (!readyAfterFlush) {
                readyAfterFlush = true;
                ready.set(false);
            }
        } finally {
            leave();
        }
    }

    @Override
    public void complete() {
        completes.incrementAndGet();
        Runnable hook = onComplete;
        if (hook != null) {
            hook.run();
        }
    }

    /** Attaches this transport to {@code connection}, as a handoff does (for tests outside the engine's package). */
    public void startOn(Connection connection) {
        connection.start(this);
    }

    public String text() {
        synchronized (written) {
            return written.toString(StandardCharsets.UTF_8);
        }
    }

    private void enter() {
        if (inside.incrementAndGet() > 1) {
            overlaps.incrementAndGet();
        }
    }

    private void leave() {
        inside.decrementAndGet();
    }
}
