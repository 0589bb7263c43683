package dev.handoff.test;

import dev.handoff.core.StreamScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link StreamScheduler} on a clock that moves only when the test says: heartbeats, idle and write time-outs,
 * and replay ages of the streams and registries it drives happen in milliseconds, with no sleep.
 *
 * <pre>{@code
 * ManualScheduler time = ManualScheduler.create();
 * StreamRegistry registry = StreamRegistry.builder().scheduler(time.scheduler()).build();
 * // ... a stream with a 15 s heartbeat is open
 * time.advance(Duration.ofSeconds(16));            // its heartbeat is written at 15 s, and ends a tick later
 * }</pre>
 *
 * <p>A heartbeat goes out in two writes a tick apart (so that a client that closed its socket is found a tick
 * after a heartbeat, not a heartbeat later): to see a whole heartbeat, move the clock a tick past it.
 *
 * <p>Work given to it without a delay (a registry's deliveries) runs at once, on one thread of its own, as on a
 * real pool; only delayed and periodic work waits for the clock. {@link #advance} runs what falls due in the
 * order it falls due, each with the clock at its time, and returns when it has run.
 */
public final class ManualScheduler implements AutoCloseable {

    private final AtomicLong now = new AtomicLong();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "handoff-manual-scheduler");
        t.setDaemon(true);
        return t;
    });
    private final Executor executor = new Executor();
    private final StreamScheduler scheduler;

    private ManualScheduler(Duration tick) {
        this.scheduler = StreamScheduler.using(executor, tick, now::get);
    }

    /** A scheduler whose streams' timers are checked every second of its clock. */
    public static ManualScheduler create() {
        return create(Duration.ofSeconds(1));
    }

    /** A scheduler whose streams' timers are checked every {@code tick} of its clock. */
    public static ManualScheduler create(Duration tick) {
        return new ManualScheduler(tick);
    }

    /** The scheduler to give to streams ({@code StreamOptions.withScheduler}) or a registry ({@code builder().scheduler}). */
    public StreamScheduler scheduler() {
        return scheduler;
    }

    /** The clock, in nanoseconds. */
    public long nanoTime() {
        return now.get();
    }

    /**
     * Moves the clock on by {@code by}, running every delayed or periodic task that falls due meanwhile, in order,
     * each with the clock at its due time; returns once they have run.
     */
    public void advance(Duration by) {
        if (by.isNegative()) {
            throw new IllegalArgumentException("the clock does not go back: " + by);
        }
        long target = now.get() + by.toNanos();
        while (true) {
            Task next;
            synchronized (executor) {
                next = executor.queue.peek();
                if (next == null || next.due > target) {
                    break;
                }
                executor.queue.poll();
            }
            now.set(Math.max(now.get(), next.due));
            runOnWorker(next);
        }
        now.set(target);
    }

    private void runOnWorker(Task task) {
        try {
            worker.submit(task::runOnce).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a scheduled task failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("a scheduled task ran for more than 30 s: " + task);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + task);
        }
    }

    /** Delayed and periodic tasks not yet run or cancelled. */
    public int pending() {
        synchronized (executor) {
            return (int) executor.queue.stream().filter(t -> !t.isCancelled()).count();
        }
    }

    @Override
    public void close() {
        scheduler.close();
        worker.shutdownNow();
    }

    @Override
    public String toString() {
        return "ManualScheduler[at " + Duration.ofNanos(now.get()) + ", " + pending() + " tasks waiting]";
    }

    private static final AtomicLong SEQUENCE = new AtomicLong();

    /** A delayed or periodic task; its due time is on the manual clock. */
    private final class Task extends FutureTask<Object> implements ScheduledFuture<Object> {
        final long sequence = SEQUENCE.incrementAndGet();
        long due;
        final long period;

        Task(Runnable r, long due, long period) {
            super(r, null);
            this.due = due;
            this.period = period;
        }

        Task(Callable<Object> c, long due) {
            super(c);
            this.due = due;
            this.period = 0;
        }

        void runOnce() {
            if (period == 0) {
                run();
            } else if (runAndReset()) {
                due += period;
                synchronized (executor) {
                    executor.queue.add(this);
                }
            }
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(due - now.get(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            Task t = (Task) o;
            int c = Long.compare(due, t.due);
            return c != 0 ? c : Long.compare(sequence, t.sequence);
        }

        @Override
        public boolean cancel(boolean mayInterrupt) {
            boolean cancelled = super.cancel(mayInterrupt);
            synchronized (executor) {
                executor.queue.remove(this);
            }
            return cancelled;
        }
    }

    /** The executor the scheduler runs on: immediate work to the worker thread, delayed work to the clock's queue. */
    private final class Executor extends AbstractExecutorService implements ScheduledExecutorService {
        final PriorityQueue<Task> queue = new PriorityQueue<>();
        private volatile boolean shutdown;

        @Override
        public void execute(Runnable command) {
            if (shutdown) {
                throw new java.util.concurrent.RejectedExecutionException("the manual scheduler was closed");
            }
            worker.execute(command);
        }

        private Task add(Task t) {
            if (shutdown) {
                throw new java.util.concurrent.RejectedExecutionException("the manual scheduler was closed");
            }
            synchronized (this) {
                queue.add(t);
            }
            return t;
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return add(new Task(command, now.get() + Math.max(0, unit.toNanos(delay)), 0));
        }

        @Override
        @SuppressWarnings("unchecked")
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            return (ScheduledFuture<V>) add(new Task((Callable<Object>) callable, now.get() + Math.max(0,
                    unit.toNanos(delay))));
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            return add(new Task(command, now.get() + unit.toNanos(initialDelay), unit.toNanos(period)));
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
            return scheduleAtFixedRate(command, initialDelay, delay, unit);
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            synchronized (this) {
                List<Runnable> left = new ArrayList<>(queue);
                queue.clear();
                return left;
            }
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return shutdown;
        }
    }
}
