package dev.handoff.core.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.IntConsumer;

/** Runs the same body on several threads released at the same instant, to force races on purpose. */
public final class Together {

    private Together() {
    }

    /** Runs {@code body(threadIndex)} on {@code threads} threads at once and waits for them all. */
    public static void run(int threads, Duration timeout, IntConsumer body) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            int index = t;
            Thread thread = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                body.accept(index);
            }, "together-" + t);
            started.add(thread);
            thread.start();
        }
        go.countDown();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread thread : started) {
            thread.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            if (thread.isAlive()) {
                throw new AssertionError(thread.getName() + " still running after " + timeout);
            }
        }
    }
}
