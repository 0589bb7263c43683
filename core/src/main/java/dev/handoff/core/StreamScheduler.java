package dev.handoff.core;

import dev.handoff.core.internal.Timed;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives every stream's heartbeat and time-outs from a small, fixed pool, whatever the number of streams.
 *
 * <p>A timer task per stream would cost an object in the executor's queue per stream and a queue
 * operation per heartbeat. Instead the streams are kept in a few shards, one per pool thread, and each
 * shard is swept by one periodic task every {@link #tick()}: the sweep asks each stream whether a
 * heartbeat or a time-out is due, which is a few comparisons. A stream's timers are therefore accurate
 * to one tick. Heartbeats that are due are written by the sweeping thread; with thousands of streams
 * due in the same tick, the shards spread that work over the pool.
 *
 * <p>{@link #shared()} is created on first use with two daemon threads and never closed; an application
 * that wants to own the threads (and stop them) uses {@link #create} or {@link #using}.
 */
public final class StreamScheduler implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StreamScheduler.class);
    private static final Duration DEFAULT_TICK = Duration.ofSeconds(1);

    private static final class SharedHolder {
        static final StreamScheduler SHARED = create(2, DEFAULT_TICK);
    }

    private final ScheduledExecutorService executor;
    private final boolean ownsExecutor;
    private final Duration tick;
    private final Shard[] shards;
    private final LongSupplier nanoClock;

    private StreamScheduler(ScheduledExecutorService executor, boolean ownsExecutor, int shardCount, Duration tick,
            LongSupplier nanoClock) {
        if (tick.isNegative() || tick.isZero()) {
            throw new IllegalArgumentException("tick must be positive: " + tick);
        }
        this.executor = executor;
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.ownsExecutor = ownsExecutor;
        this.tick = tick;
        this.shards = new Shard[shardCount];
        for (int i = 0; i < shardCount; i++) {
            shards[i] = new Shard();
        }
    }

    /** The process-wide default: two daemon threads named {@code handoff-scheduler-N}, one-second tick. */
    public static StreamScheduler shared() {
        return SharedHolder.SHARED;
    }

    /**
     * A scheduler with its own pool of {@code threads} daemon threads; {@link #close()} stops them.
     *
     * @param tick how often timers are checked: the accuracy of heartbeats and time-outs
     */
    public static StreamScheduler create(int threads, Duration tick) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(threads, new NamedDaemonThreads());
        executor.setRemoveOnCancelPolicy(true);
        return new StreamScheduler(executor, true, threads, Objects.requireNonNull(tick, "tick"), System::nanoTime);
    }

    /**
     * A scheduler on the application's executor, which the application shuts down; {@link #close()} only
     * cancels this scheduler's tasks. The work is split into one shard per core thread of the executor.
     */
    public static StreamScheduler using(ScheduledExecutorService executor, Duration tick) {
        return using(executor, tick, System::nanoTime);
    }

    /**
     * As {@link #using(ScheduledExecutorService, Duration)}, on a clock of the application's: what the streams it
     * drives measure their heartbeats, time-outs and replay ages by, in nanoseconds like {@link System#nanoTime()}.
     * With an executor that runs its tasks when the clock is moved on, time-based behaviour is tested without
     * waiting (the {@code handoff-test} module's {@code ManualScheduler} does this).
     */
    public static StreamScheduler using(ScheduledExecutorService executor, Duration tick, LongSupplier nanoClock) {
        Objects.requireNonNull(executor, "executor");
        int shards = executor instanceof ScheduledThreadPoolExecutor stpe ? Math.max(1, stpe.getCorePoolSize()) : 1;
        return new StreamScheduler(executor, false, shards, Objects.requireNonNull(tick, "tick"), nanoClock);
    }

    /** This scheduler's clock, in nanoseconds: {@link System#nanoTime()} unless it was made with another. */
    public long nanoTime() {
        return nanoClock.getAsLong();
    }

    /** The executor the sweeps run on; applications may schedule their own small tasks there too. */
    public ScheduledExecutorService executor() {
        return executor;
    }

    /** How often each stream's timers are checked. */
    public Duration tick() {
        return tick;
    }

    /** Streams whose timers this scheduler drives. */
    public int streams() {
        int n = 0;
        for (Shard s : shards) {
            n += s.timed.size();
        }
        return n;
    }

    /** How many sweeps run side by side: the number of shards, one per pool thread. */
    public int parallelism() {
        return shards.length;
    }

    void register(Timed timed) {
        shardOf(timed).add(timed);
    }

    void unregister(Timed timed) {
        shardOf(timed).timed.remove(timed);
    }

    private Shard shardOf(Timed timed) {
        return shards[(int) (timed.id() % shards.length)];
    }

    /** Stops the sweeps, and the threads if this scheduler created them. Open streams keep working without timers. */
    @Override
    public void close() {
        if (this == SharedHolder.SHARED) {
            throw new IllegalStateException("the shared StreamScheduler is never closed");
        }
        for (Shard s : shards) {
            s.stop();
        }
        if (ownsExecutor) {
            executor.shutdownNow();
        }
    }

    @Override
    public String toString() {
        return "StreamScheduler[" + shards.length + " shards, tick " + tick + ", " + streams() + " streams]";
    }

    /** A set of streams swept by one periodic task, started with its first stream. */
    private final class Shard implements Runnable {
        final Set<Timed> timed = ConcurrentHashMap.newKeySet();
        private ScheduledFuture<?> task;

        void add(Timed t) {
            timed.add(t);
            synchronized (this) {
                if (task == null) {
                    long period = tick.toNanos();
                    task = executor.scheduleAtFixedRate(this, period, period, TimeUnit.NANOSECONDS);
                }
            }
        }

        synchronized void stop() {
            if (task != null) {
                task.cancel(false);
            }
        }

        @Override
        public void run() {
            long now = nanoTime();
            for (Timed c : timed) {
                try {
                    c.tick(now);
                } catch (RuntimeException e) {
                    // One stream's failure must not stop the sweep (a periodic task that throws is cancelled).
                    log.warn("stream {}: timer check failed", c.id(), e);
                }
            }
        }
    }

    private static final class NamedDaemonThreads implements ThreadFactory {
        private static final AtomicInteger POOLS = new AtomicInteger();
        private final int pool = POOLS.incrementAndGet();
        private final AtomicInteger count = new AtomicInteger();
        private final ThreadFactory delegate = Executors.defaultThreadFactory();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = delegate.newThread(r);
            t.setName("handoff-scheduler-" + pool + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }
}
