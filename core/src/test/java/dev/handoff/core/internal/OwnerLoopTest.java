package dev.handoff.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The owner loop's rules, one per test: who runs, when it goes round again, waiting, ending, and its bugs. */
class OwnerLoopTest {

    /** Work whose turns are scripted: each turn runs an action (a call that "arrives meanwhile") and answers. */
    private static final class Script implements OwnerLoop.Work {
        final ArrayDeque<Supplier<OwnerLoop.Next>> turns = new ArrayDeque<>();
        final List<String> threads = new ArrayList<>();
        int rounds;

        @Override
        public OwnerLoop.Next process() {
            rounds++;
            threads.add(Thread.currentThread().getName());
            Supplier<OwnerLoop.Next> turn = turns.poll();
            return turn == null ? OwnerLoop.Next.IDLE : turn.get();
        }
    }

    @Test
    void runOnAnIdleLoopRunsTheWorkOnTheCallerAndLeavesItIdle() {
        Script work = new Script();
        OwnerLoop loop = new OwnerLoop("t", work, false);
        loop.run();
        assertThat(work.rounds).isEqualTo(1);
        assertThat(work.threads).containsExactly(Thread.currentThread().getName());
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.IDLE);
    }

    @Test
    void aRunThatArrivesWhileTheWorkRunsMakesTheOwnerGoRoundOnceInsteadOfNesting() {
        Script work = new Script();
        OwnerLoop loop = new OwnerLoop("t", work, false);
        work.turns.add(() -> {
            loop.run();
            loop.run(); // Two arrivals while running: still one more round.
            assertThat(work.rounds).as("no nested round").isEqualTo(1);
            return OwnerLoop.Next.IDLE;
        });
        loop.run();
        assertThat(work.rounds).isEqualTo(2);
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.IDLE);
    }

    @Test
    void aWaitingLoopIgnoresRunAndIsRunByWake() {
        Script work = new Script();
        OwnerLoop loop = new OwnerLoop("t", work, true);
        loop.run();
        assertThat(work.rounds).as("waiting for the first wake").isZero();
        loop.wake();
        assertThat(work.rounds).isEqualTo(1);
        work.turns.add(() -> OwnerLoop.Next.WAIT);
        loop.run();
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.WAITING);
        loop.run();
        assertThat(work.rounds).isEqualTo(2);
        loop.wake();
        assertThat(work.rounds).isEqualTo(3);
    }

    @Test
    void aWakeWhileTheWorkRunsMakesAWaitGoRoundButARunDoesNot() {
        Script work = new Script();
        OwnerLoop loop = new OwnerLoop("t", work, false);
        work.turns.add(() -> {
            loop.wake(); // The awaited event came before the work even said it waits for it.
            return OwnerLoop.Next.WAIT;
        });
        work.turns.add(() -> {
            loop.run(); // More work, but the work is blocked: waiting is right.
            return OwnerLoop.Next.WAIT;
        });
        loop.run();
        assertThat(work.rounds).isEqualTo(2);
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.WAITING);
    }

    @Test
    void endWithNoOwnerTellsTheCallerToFinishAndWithAnOwnerMakesItGoRound() {
        Script idle = new Script();
        OwnerLoop waiting = new OwnerLoop("t", idle, true);
        assertThat(waiting.end()).isTrue();
        assertThat(waiting.state()).isEqualTo(OwnerLoop.State.DONE);
        waiting.wake();
        waiting.run();
        assertThat(idle.rounds).as("a DONE loop never runs").isZero();
        assertThat(waiting.end()).as("ended once").isFalse();

        Script work = new Script();
        OwnerLoop loop = new OwnerLoop("t", work, false);
        boolean[] callerFinishes = new boolean[1];
        work.turns.add(() -> {
            callerFinishes[0] = loop.end();
            return OwnerLoop.Next.IDLE;
        });
        work.turns.add(() -> OwnerLoop.Next.DONE); // The owner's next round finds the work over.
        loop.run();
        assertThat(callerFinishes[0]).isFalse();
        assertThat(work.rounds).isEqualTo(2);
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.DONE);
    }

    @Test
    void anEndWhileTheOwnerIsAboutToWaitStillMakesItGoRound() {
        Script work = new Script();
        OwnerLoop loop = new OwnerLoop("t", work, false);
        work.turns.add(() -> {
            loop.run(); // RERUN first: the end must not be taken for more work the WAIT would cover.
            assertThat(loop.end()).isFalse();
            return OwnerLoop.Next.WAIT; // A writer whose isReady() said false as the stream was cut.
        });
        work.turns.add(() -> OwnerLoop.Next.DONE); // The round that finds the end and completes the response.
        loop.run();
        assertThat(work.rounds).as("nobody else would finish it").isEqualTo(2);
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.DONE);
    }

    @Test
    void anImpossibleAnswerIsABugReportedWithTheLoopsState() {
        OwnerLoop loop = new OwnerLoop("broken work", () -> null, false);
        assertThatThrownBy(loop::run).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("process() returned null").hasMessageContaining("OwnerLoop[broken work DONE");
    }

    @Test
    void aFailingProcessEndsTheLoopAndReachesTheCaller() {
        OwnerLoop loop = new OwnerLoop("t", () -> {
            throw new IllegalArgumentException("boom");
        }, false);
        assertThatThrownBy(loop::run).hasMessage("boom");
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.DONE);
    }

    @Test
    void manyThreadsNeverRunTheWorkTogetherAndNoArrivalIsLost() throws Exception {
        int threads = 4;
        int perThread = 20_000;
        ConcurrentLinkedQueue<Integer> inbox = new ConcurrentLinkedQueue<>();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger taken = new AtomicInteger();
        OwnerLoop loop = new OwnerLoop("t", () -> {
            if (inside.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
            while (inbox.poll() != null) {
                taken.incrementAndGet();
            }
            inside.decrementAndGet();
            return OwnerLoop.Next.IDLE;
        }, false);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    inbox.add(i);
                    loop.run();
                }
            });
            thread.start();
            started.add(thread);
        }
        start.countDown();
        for (Thread thread : started) {
            thread.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(thread.isAlive()).isFalse();
        }
        assertThat(overlaps.get()).isZero();
        assertThat(taken.get()).as("every arrival taken by some round").isEqualTo(threads * perThread);
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.IDLE);
    }

    /** An executor that holds tasks until the test runs them, so every hand-over is seen. */
    private static final class Held implements Executor {
        final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        boolean shutDown;

        @Override
        public void execute(Runnable task) {
            if (shutDown) {
                throw new RejectedExecutionException("shut down");
            }
            tasks.add(task);
        }

        void runOne() {
            tasks.remove().run();
        }
    }

    @Test
    void withAnExecutorTheCallOnlyClaimsTheWorkAndTheExecutorRunsIt() {
        Script work = new Script();
        Held pool = new Held();
        OwnerLoop loop = new OwnerLoop("t", work, pool);
        loop.run();
        assertThat(work.rounds).as("not on the caller").isZero();
        assertThat(loop.state()).as("owned by the queued task").isEqualTo(OwnerLoop.State.RUNNING);
        loop.run();
        assertThat(pool.tasks).as("one task however many calls").hasSize(1);
        pool.runOne();
        assertThat(work.rounds).as("the call that came while queued makes it go round").isEqualTo(2);
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.IDLE);
        assertThat(pool.tasks).isEmpty();
    }

    @Test
    void yieldGivesTheThreadBackAndGoesOnInANewTask() {
        Script work = new Script();
        Held pool = new Held();
        OwnerLoop loop = new OwnerLoop("t", work, pool);
        work.turns.add(() -> OwnerLoop.Next.YIELD);
        work.turns.add(() -> OwnerLoop.Next.YIELD);
        loop.run();
        pool.runOne();
        assertThat(work.rounds).isEqualTo(1);
        assertThat(pool.tasks).as("queued again behind other work").hasSize(1);
        loop.run();
        assertThat(pool.tasks).as("still owned: no second task").hasSize(1);
        pool.runOne();
        pool.runOne();
        assertThat(work.rounds).isEqualTo(3);
        assertThat(pool.tasks).isEmpty();
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.IDLE);
    }

    @Test
    void aRefusedHandOverLeavesTheLoopIdleAndTellsTheWork() {
        List<Exception> refused = new ArrayList<>();
        Held pool = new Held();
        AtomicInteger rounds = new AtomicInteger();
        OwnerLoop loop = new OwnerLoop("t", new OwnerLoop.Work() {
            @Override
            public OwnerLoop.Next process() {
                rounds.incrementAndGet();
                return OwnerLoop.Next.YIELD;
            }

            @Override
            public void refused(RejectedExecutionException e) {
                refused.add(e);
            }
        }, pool);
        loop.run();
        pool.shutDown = true;
        pool.runOne();
        assertThat(rounds.get()).isEqualTo(1);
        assertThat(refused).as("the yield's hand-over was refused").hasSize(1);
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.IDLE);
        loop.run();
        assertThat(refused).as("and so is the next claim's").hasSize(2);
        assertThat(loop.state()).isEqualTo(OwnerLoop.State.IDLE);
    }

    @Test
    void yieldWithoutAnExecutorIsABug() {
        OwnerLoop loop = new OwnerLoop("inline", () -> OwnerLoop.Next.YIELD, false);
        assertThatThrownBy(loop::run).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("YIELD without an executor").hasMessageContaining("OwnerLoop[inline DONE");
    }
}
