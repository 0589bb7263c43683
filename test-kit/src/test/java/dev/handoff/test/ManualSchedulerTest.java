package dev.handoff.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The manual clock: delayed work runs when the clock reaches it, in order, with the clock at its time. */
class ManualSchedulerTest {

    @Test
    void delayedAndPeriodicTasksRunWhenTheClockReachesThemInOrder() {
        try (ManualScheduler time = ManualScheduler.create()) {
            ScheduledExecutorService executor = time.scheduler().executor();
            List<String> ran = new CopyOnWriteArrayList<>();
            executor.schedule(() -> ran.add("once at " + time.nanoTime() / 1_000_000), 1500, TimeUnit.MILLISECONDS);
            ScheduledFuture<?> every = executor.scheduleAtFixedRate(() -> ran.add("tick at " + time.nanoTime() / 1_000_000),
                    1, 1, TimeUnit.SECONDS);
            ScheduledFuture<?> cancelled = executor.schedule(() -> ran.add("never"), 1, TimeUnit.SECONDS);
            cancelled.cancel(false);

            time.advance(Duration.ofMillis(999));
            assertThat(ran).isEmpty();
            time.advance(Duration.ofMillis(2001));
            assertThat(ran).containsExactly("tick at 1000", "once at 1500", "tick at 2000", "tick at 3000");
            every.cancel(false);
            time.advance(Duration.ofSeconds(5));
            assertThat(ran).hasSize(4);
            assertThat(time.nanoTime()).isEqualTo(Duration.ofSeconds(8).toNanos());
            assertThat(time.pending()).isZero();
        }
    }
}
