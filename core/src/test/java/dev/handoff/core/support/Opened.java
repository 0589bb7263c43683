package dev.handoff.core.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/** Takes what handlers put into a queue as their streams open (server side), in order of opening. */
public final class Opened {

    private Opened() {
    }

    /** The next {@code n} items, each within {@code wait}; fails naming the one that did not come. */
    public static <T> List<T> take(BlockingQueue<T> queue, int n, Duration wait) throws InterruptedException {
        List<T> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            T item = queue.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(item).as("stream %d of %d opened", i + 1, n).isNotNull();
            items.add(item);
        }
        return items;
    }
}
