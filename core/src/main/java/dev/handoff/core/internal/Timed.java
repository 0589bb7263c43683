package dev.handoff.core.internal;

import dev.handoff.core.StreamScheduler;

/** Something whose timers {@link StreamScheduler} checks every tick: a stream, or a request body being read. */
public interface Timed {

    /** A number that spreads the timed things over the scheduler's shards. */
    long id();

    /** Checks time-outs; called by the scheduler every tick, with {@link System#nanoTime()}. */
    void tick(long now);
}
