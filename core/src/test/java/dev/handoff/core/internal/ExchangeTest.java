package dev.handoff.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.CloseReason;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.StreamScheduler;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The container's error callback against a writer inside the output stream on another thread: the
 * response must be completed before the callback returns, or Tomcat answers the error itself (an error
 * page dispatch into the stream, then a second completion that fails).
 */
class ExchangeTest {

    private static final StreamScheduler NEVER_TICKS = StreamScheduler.create(1, Duration.ofHours(1));
    private static final Duration WAIT = Duration.ofSeconds(5);

    @AfterAll
    static void stopScheduler() {
        NEVER_TICKS.close();
    }

    @Test
    void anErrorCallbackReturnsOnlyOnceTheWriterLeftTheStreamAndCompletedTheResponse() throws Exception {
        List<String> order = new CopyOnWriteArrayList<>();
        AsyncContext async = recording(order);
        Exchange exchange = new Exchange(async);
        TestTransport transport = new TestTransport();
        Connection c = attached(exchange, transport, "GET /error-race");

        // The writer stops inside isReady(), as if the container's error arrived mid-write.
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        transport.insideIsReady = () -> {
            inside.countDown();
            awaitQuietly(release);
        };
        Thread writer = new Thread(() -> c.write(new byte[] {'x'}, 0, 1), "writer");
        writer.start();
        assertThat(inside.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

        Thread container = new Thread(() -> {
            exchange.onError(new AsyncEvent(async, new IOException("Connection reset by peer")));
            order.add("onError returned");
        }, "container");
        container.start();
        // Release the writer once the callback has either returned or is waiting for it.
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!EnumSet.of(Thread.State.WAITING, Thread.State.TIMED_WAITING, Thread.State.TERMINATED)
                .contains(container.getState()) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        release.countDown();
        writer.join(WAIT.toMillis());
        container.join(WAIT.toMillis());

        assertThat(transport.completes.get()).as("completions by the writer").isEqualTo(1);
        assertThat(order).as("the writer's completion, the callback's own, then the callback returns")
                .containsExactly("complete", "complete", "onError returned");
        assertThat(c.whenClosed().toCompletableFuture().get(1, TimeUnit.SECONDS).reason())
                .isEqualTo(CloseReason.CLIENT_GONE);
        assertThat(transport.overlaps.get()).isZero();
    }

    @Test
    void anErrorAfterTheStreamCompletedItsResponseCompletesItAgainFromTheCallback() {
        // Tomcat puts a request whose write just failed back into error, after the stream had completed it.
        List<String> order = new CopyOnWriteArrayList<>();
        AsyncContext async = recording(order);
        Exchange exchange = new Exchange(async);
        TestTransport transport = new TestTransport();
        Connection c = attached(exchange, transport, "GET /failed-write");
        transport.failWrites = new IOException("Broken pipe");
        c.write(new byte[] {'x'}, 0, 1);
        assertThat(order).as("the failed write ended the stream and completed the response").containsExactly("complete");

        exchange.onError(new AsyncEvent(async, new IOException("Broken pipe")));
        assertThat(order).containsExactly("complete", "complete");
    }

    /** A stream past its first write-possible, bound to the exchange as a handoff binds it. */
    private static Connection attached(Exchange exchange, TestTransport transport, String description) {
        transport.onComplete = exchange::complete;
        Connection c = new Connection(description, StreamOptions.defaults().withScheduler(NEVER_TICKS), null, null,
                System::nanoTime);
        c.start(transport);
        c.onWritePossible();
        exchange.attach(c);
        return c;
    }

    /** An async context on which only complete() is called; it records each call. */
    private AsyncContext recording(List<String> order) {
        return (AsyncContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {AsyncContext.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("complete")) {
                        order.add("complete");
                    }
                    return null;
                });
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
