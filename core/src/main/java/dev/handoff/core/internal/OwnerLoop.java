package dev.handoff.core.internal;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One thread at a time runs a piece of work; a call that arrives while it runs makes it go round again
 * instead of running beside it or being lost. The shape of Jetty's {@code IteratingCallback}: the work's
 * {@link Work#process()} does what it can and says what to do next, and this class alone decides who runs.
 *
 * <pre>
 *                  run(), wake()                                run()
 *     IDLE ─────────────────────────────▶ RUNNING ──────────────────────────────▶ RERUN
 *       ▲                                 │ │ ▲ ▲ ▲                               │
 *       └─────────── said IDLE ───────────┘ │ │ │ └─── said IDLE: go round ───────┤ wake(), end()
 *                                said WAIT  │ │ │                                 ▼
 *                                           │ │ └── said IDLE or WAIT: go round ─ WOKEN ◀── wake(), end(), from RUNNING
 *                                           ▼ │  wake(): the caller owns the work
 *     (new, waitingFirst) ─────────────▶ WAITING
 *
 *   IDLE, WAITING ── end(): true, the caller finishes ──▶ DONE
 *   RUNNING, RERUN, WOKEN ── said DONE, or threw ──▶ DONE          RERUN ── said WAIT ──▶ WAITING
 *   RUNNING, RERUN, WOKEN ── said YIELD ──▶ RUNNING, its task queued on the executor again
 * </pre>
 *
 * <p>Every event in every state (the diagram's legend; "said X" is the owner's {@code process()} answering X):
 *
 * <pre>
 *  event \ state     IDLE         RUNNING      RERUN        WOKEN        WAITING      DONE
 *  ------------------------------------------------------------------------------------------
 *  run()             RUNNING:own  RERUN        -            -            -            -
 *  wake()            RUNNING:own  WOKEN        WOKEN        -            RUNNING:own  -
 *  end()             DONE:true    WOKEN:false  WOKEN:false  false        DONE:true    false
 *  said IDLE         ise          IDLE         RUNNING:go   RUNNING:go   ise          ise
 *  said WAIT         ise          WAITING      WAITING      RUNNING:go   ise          ise
 *  said YIELD        ise          RUNNING:sub  RUNNING:sub  RUNNING:sub  ise          ise
 *  said DONE, threw  ise          DONE         DONE         DONE         ise          ise
 *
 *  own    the caller runs process() now, or hands it to the executor
 *  go     the owner calls process() again on its thread
 *  sub    the owner queues itself on the executor again and returns its thread
 *  true, false   what end() returns: true means nobody owns the work and the caller finishes it
 *  -      no change: the call has nothing to add (an owner will go round, the loop waits, or it is over)
 *  ise    cannot happen: only the owner acts on its own turn; IllegalStateException with toString()
 * </pre>
 *
 * <ul>
 *   <li>{@code IDLE} — nobody runs the work and it waits for nothing: the next {@link #run()} runs it.</li>
 *   <li>{@code RUNNING} — one thread is in {@code process()} (with an executor: or its task is queued).</li>
 *   <li>{@code RERUN} — running, and {@code run()} was called meanwhile: process again before leaving,
 *       unless the work then waits.</li>
 *   <li>{@code WOKEN} — running, and {@code wake()} or {@code end()} was called meanwhile: process again before
 *       leaving, even if the work said WAIT (the event it would wait for has come, or the end must be
 *       finished by the owner).</li>
 *   <li>{@code WAITING} — the work waits for an outside event (the container's {@code onWritePossible} or
 *       {@code onDataAvailable}, Jetty's data callback); {@code run()} leaves it be, {@code wake()} runs it.</li>
 *   <li>{@code DONE} — over for good; every later call does nothing.</li>
 * </ul>
 *
 * <p>Without an executor the owner is the thread whose call found the work unowned: it runs {@code process()}
 * at once, inline. With one (a fan-out stripe on the scheduler's pool) the call only claims the work and
 * hands it to the executor, and {@code process()} may answer {@link Next#YIELD} to give the thread back
 * between batches; a refused hand-over goes to {@link Work#refused}.
 *
 * <p>Every decision is one compare-and-set; {@code process()} runs outside any lock of this class. A state
 * that cannot happen (an owner leaving a loop it does not own) is a bug and throws
 * {@link IllegalStateException} with {@link #toString()}.
 */
public final class OwnerLoop {

    /** The work: does what it can now, and says what the loop should do next. */
    public interface Work {
        Next process();

        /**
         * The executor refused the loop (it is shut down): the loop is {@code IDLE} again and nothing runs the
         * work. Called on the thread that tried to hand it over. The default rethrows.
         */
        default void refused(RejectedExecutionException e) {
            throw e;
        }
    }

    /** What {@link Work#process()} found. */
    public enum Next {
        /** Nothing more to do until {@link OwnerLoop#run()} is called again. */
        IDLE,
        /** Blocked until {@link OwnerLoop#wake()}: an outside event, not more work, lets it go on. */
        WAIT,
        /**
         * More to do, but give the thread back first: the loop queues itself on its executor again and goes
         * round there. Only for a loop with an executor.
         */
        YIELD,
        /** Finished for good. */
        DONE
    }

    /** The loop's states; see the diagram in the class description. */
    public enum State {
        IDLE, RUNNING, RERUN, WOKEN, WAITING, DONE
    }

    private final AtomicReference<State> state;
    private final Work work;
    private final String name;
    /** Where the owner runs; null to run on the thread that claimed the work. */
    private final Executor executor;
    private final Runnable task = this::loop;

    /**
     * A loop whose owner is the calling thread.
     *
     * @param waitingFirst true if the work first waits for {@link #wake()} (a writer waits for the container's
     *        first {@code onWritePossible})
     */
    public OwnerLoop(String name, Work work, boolean waitingFirst) {
        this(name, work, waitingFirst, null);
    }

    /** A loop whose owner is a task on {@code executor}; it starts {@code IDLE}. */
    public OwnerLoop(String name, Work work, Executor executor) {
        this(name, work, false, Objects.requireNonNull(executor, "executor"));
    }

    private OwnerLoop(String name, Work work, boolean waitingFirst, Executor executor) {
        this.name = name;
        this.work = work;
        this.executor = executor;
        this.state = new AtomicReference<>(waitingFirst ? State.WAITING : State.IDLE);
    }

    /** Work arrived: runs it on this thread if nobody does, else makes the owner go round again. */
    public void run() {
        while (true) {
            State s = state.get();
            switch (s) {
                case IDLE -> {
                    if (state.compareAndSet(s, State.RUNNING)) {
                        own();
                        return;
                    }
                }
                case RUNNING -> {
                    if (state.compareAndSet(s, State.RERUN)) {
                        return;
                    }
                }
                case RERUN, WOKEN, WAITING, DONE -> {
                    return;
                }
                default -> throw new IllegalStateException(toString());
            }
        }
    }

    /** The event the work waits for happened: runs it on this thread if nobody does, else makes the owner go round. */
    public void wake() {
        while (true) {
            State s = state.get();
            switch (s) {
                case IDLE, WAITING -> {
                    if (state.compareAndSet(s, State.RUNNING)) {
                        own();
                        return;
                    }
                }
                case RUNNING, RERUN -> {
                    if (state.compareAndSet(s, State.WOKEN)) {
                        return;
                    }
                }
                case WOKEN, DONE -> {
                    return;
                }
                default -> throw new IllegalStateException(toString());
            }
        }
    }

    /**
     * Ends the loop from outside. Returns true if nobody runs the work: the caller then finishes what the owner
     * would have (the loop is {@code DONE}). Returns false if an owner runs it (it goes round once more, even
     * if it was about to wait, and finds the work over) or the loop was over already.
     */
    public boolean end() {
        while (true) {
            State s = state.get();
            switch (s) {
                case IDLE, WAITING -> {
                    if (state.compareAndSet(s, State.DONE)) {
                        return true;
                    }
                }
                case RUNNING, RERUN -> {
                    // WOKEN, not RERUN: the owner must go round even if its turn ends in WAIT, or nobody
                    // would finish the work it is about to wait on.
                    if (state.compareAndSet(s, State.WOKEN)) {
                        return false;
                    }
                }
                case WOKEN, DONE -> {
                    return false;
                }
                default -> throw new IllegalStateException(toString());
            }
        }
    }

    public State state() {
        return state.get();
    }

    /** The caller just claimed the work (moved it to RUNNING): runs it here, or hands it to the executor. */
    private void own() {
        if (executor == null) {
            loop();
        } else {
            handOver();
        }
    }

    private void handOver() {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            // Nobody will run it: unowned again, so that a later call can try once more.
            state.set(State.IDLE);
            work.refused(e);
        }
    }

    /** The owner's loop: process, then leave or go round, by one compare-and-set per turn. */
    private void loop() {
        while (true) {
            Next next;
            try {
                next = work.process();
            } catch (RuntimeException | Error e) {
                state.set(State.DONE);
                throw e;
            }
            if (next == null || (next == Next.YIELD && executor == null)) {
                state.set(State.DONE);
                throw new IllegalStateException("process() returned " + next + (next == null ? "" : " without an "
                        + "executor to yield to") + ": " + this);
            }
            if (next == Next.YIELD) {
                // Still owned; whatever arrived so far the queued task's turn will see, so RERUN and WOKEN
                // are spent. A call after this line makes them again.
                spendArrivals();
                handOver();
                return;
            }
            if (!leaveOrGoRound(next)) {
                return;
            }
        }
    }

    /** The owner, about to yield: RERUN and WOKEN back to RUNNING. */
    private void spendArrivals() {
        while (true) {
            State s = state.get();
            switch (s) {
                case RUNNING -> {
                    return;
                }
                case RERUN, WOKEN -> {
                    if (state.compareAndSet(s, State.RUNNING)) {
                        return;
                    }
                }
                default -> throw new IllegalStateException("the owner found " + s + " when it yielded: " + this);
            }
        }
    }

    /** Returns true to process again. */
    private boolean leaveOrGoRound(Next next) {
        while (true) {
            State s = state.get();
            State to;
            switch (s) {
                case RUNNING -> to = next == Next.IDLE ? State.IDLE : next == Next.WAIT ? State.WAITING : State.DONE;
                case RERUN -> to = next == Next.IDLE ? State.RUNNING : next == Next.WAIT ? State.WAITING : State.DONE;
                case WOKEN -> to = next == Next.DONE ? State.DONE : State.RUNNING;
                // Only the owner leaves RUNNING, RERUN and WOKEN: any other state means two owners.
                default -> throw new IllegalStateException("the owner found " + s + " after process() said " + next
                        + ": " + this);
            }
            if (state.compareAndSet(s, to)) {
                return to == State.RUNNING;
            }
        }
    }

    @Override
    public String toString() {
        return "OwnerLoop[" + name + " " + state.get() + ", " + work + "]";
    }
}
