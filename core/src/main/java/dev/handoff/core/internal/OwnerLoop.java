package dev.handoff.core.internal;

import java.util.concurrent.atomic.AtomicReference;

/**
 * One thread at a time runs a piece of work; a call that arrives while it runs makes it go round again
 * instead of running beside it or being lost. The shape of Jetty's {@code IteratingCallback}: the work's
 * {@link Work#process()} does what it can and says what to do next, and this class alone decides who runs.
 *
 * <pre>
 *            run() or wake(): the caller owns the work
 *   IDLE ────────────────────────────────────────────────▶ RUNNING ──── run() ────▶ RERUN
 *    ▲                                                      │  ▲  │                  │
 *    │ process() said IDLE, nothing arrived meanwhile       │  │  └── wake() ──▶ WOKEN│
 *    └──────────────────────────────────────────────────────┘  │                     │
 *                                                              │ process() said IDLE │
 *      process() said WAIT: the work waits for wake()          │ (after RERUN/WOKEN),│
 *   WAITING ◀──────────────────────────────────────────────────│ or WAIT after WOKEN:│
 *      │                                                       │ go round again ◀────┘
 *      └──── wake(): the caller owns the work ─────────────────┘
 *
 *   any state ── process() said DONE, or end() with no owner ──▶ DONE
 * </pre>
 *
 * <ul>
 *   <li>{@code IDLE} — nobody runs the work and it waits for nothing: the next {@link #run()} runs it.</li>
 *   <li>{@code RUNNING} — one thread is in {@code process()}.</li>
 *   <li>{@code RERUN} — running, and {@code run()} was called meanwhile: process again before leaving,
 *       unless the work then waits.</li>
 *   <li>{@code WOKEN} — running, and {@code wake()} was called meanwhile: process again before leaving, even if
 *       the work said WAIT (the event it would wait for has come).</li>
 *   <li>{@code WAITING} — the work waits for an outside event (the container's {@code onWritePossible}, Jetty's
 *       data callback); {@code run()} leaves it be, {@code wake()} runs it.</li>
 *   <li>{@code DONE} — over for good; every later call does nothing.</li>
 * </ul>
 *
 * <p>Every decision is one compare-and-set; {@code process()} runs outside any lock of this class. A state
 * that cannot happen (an owner leaving a loop it does not own) is a bug and throws
 * {@link IllegalStateException} with {@link #toString()}.
 */
public final class OwnerLoop {

    /** The work: does what it can now, and says what the loop should do next. */
    public interface Work {
        Next process();
    }

    /** What {@link Work#process()} found. */
    public enum Next {
        /** Nothing more to do until {@link OwnerLoop#run()} is called again. */
        IDLE,
        /** Blocked until {@link OwnerLoop#wake()}: an outside event, not more work, lets it go on. */
        WAIT,
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

    /**
     * @param waitingFirst true if the work first waits for {@link #wake()} (a writer waits for the container's
     *        first {@code onWritePossible})
     */
    public OwnerLoop(String name, Work work, boolean waitingFirst) {
        this.name = name;
        this.work = work;
        this.state = new AtomicReference<>(waitingFirst ? State.WAITING : State.IDLE);
    }

    /** Work arrived: runs it on this thread if nobody does, else makes the owner go round again. */
    public void run() {
        while (true) {
            State s = state.get();
            switch (s) {
                case IDLE -> {
                    if (state.compareAndSet(s, State.RUNNING)) {
                        loop();
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
                        loop();
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
     * would have (the loop is {@code DONE}). Returns false if an owner runs it (it goes round once more and
     * finds the work over) or the loop was over already.
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
                case RUNNING -> {
                    if (state.compareAndSet(s, State.RERUN)) {
                        return false;
                    }
                }
                case RERUN, WOKEN, DONE -> {
                    return false;
                }
                default -> throw new IllegalStateException(toString());
            }
        }
    }

    public State state() {
        return state.get();
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
            if (next == null) {
                state.set(State.DONE);
                throw new IllegalStateException("process() returned null: " + this);
            }
            if (!leaveOrGoRound(next)) {
                return;
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
