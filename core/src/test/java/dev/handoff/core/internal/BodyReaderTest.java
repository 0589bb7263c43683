package dev.handoff.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.RequestBodyException;
import dev.handoff.core.StreamScheduler;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The body reader's demand, limits and ends, on an in-memory input stream that plays the container. */
class BodyReaderTest {

    private final StreamScheduler scheduler = StreamScheduler.create(1, Duration.ofHours(1));
    private final AtomicLong clock = new AtomicLong();
    private final FakeInput in = new FakeInput();
    private final List<RequestBodyException> answered = new ArrayList<>();
    private final List<RequestBodyException> endedByContainer = new ArrayList<>();
    private final Recorder recorder = new Recorder();

    @AfterEach
    void close() {
        scheduler.close();
    }

    private BodyReader reader(long max, long idleNanos) {
        BodyReader reader = new BodyReader("POST /test", in, -1, max, idleNanos, 0, 1, 4, scheduler, clock::get,
                answered::add, endedByContainer::add);
        in.setReadListener(reader);
        reader.subscribe(recorder);
        return reader;
    }

    @Test
    void readsOneBufferPerUnitOfDemandAndNothingAhead() {
        in.add("abcdefghij");
        BodyReader reader = reader(100, 0);
        reader.onDataAvailable();
        assertThat(in.reads).as("no demand yet").isZero();
        assertThat(reader.toString()).contains("reader IDLE");

        recorder.subscription.request(1);
        assertThat(in.reads).isEqualTo(1);
        assertThat(recorder.text()).isEqualTo("abcd");
        assertThat(reader.toString()).contains("reader IDLE");

        recorder.subscription.request(5);
        assertThat(recorder.text()).isEqualTo("abcdefghij");
        assertThat(reader.toString()).as("no more data: the container will call").contains("reader WAITING");
        assertThat(reader.bytesRead()).isEqualTo(10);

        in.add("kl");
        in.finish();
        reader.onDataAvailable();
        assertThat(recorder.text()).isEqualTo("abcdefghijkl");
        assertThat(recorder.completed).isEqualTo(1);
        assertThat(reader.toString()).contains("reader DONE");
        reader.onAllDataRead();
        assertThat(recorder.completed).as("completed once").isEqualTo(1);
    }

    @Test
    void aBodyOverItsLimitFailsWith413AndIsAnsweredOnce() {
        in.add("0123456789");
        BodyReader reader = reader(6, 0);
        recorder.subscription.request(10);
        reader.onDataAvailable();
        assertThat(recorder.text()).isEqualTo("0123");
        assertThat(recorder.error).isInstanceOf(RequestBodyException.class)
                .hasMessageContaining("over this endpoint's limit of 6 bytes");
        assertThat(answered).hasSize(1);
        assertThat(answered.get(0).status()).isEqualTo(413);
        reader.onError(new java.io.IOException("late"));
        assertThat(recorder.errors).isEqualTo(1);
    }

    @Test
    void aBodyTheContainerReportsBrokenEndsTheRequestAtOnceEvenBeforeAnyoneSubscribed() {
        BodyReader reader = new BodyReader("POST /cut", in, 1000, 10_000, 0, 0, 1, 4, scheduler, clock::get,
                answered::add, endedByContainer::add);
        in.setReadListener(reader);
        reader.onError(new java.io.EOFException("Early EOF"));
        assertThat(endedByContainer).extracting(RequestBodyException::status).containsExactly(400);
        assertThat(endedByContainer.get(0)).hasMessageContaining("broke off after 0 bytes")
                .hasMessageContaining("Early EOF").hasCauseInstanceOf(java.io.EOFException.class);
        reader.onError(new java.io.IOException("a second report"));
        assertThat(endedByContainer).as("ended once").hasSize(1);
        // A subscriber that comes later still hears why.
        reader.subscribe(recorder);
        assertThat(recorder.error).isSameAs(endedByContainer.get(0));

        BodyReader idle = new BodyReader("POST /idle", new FakeInput(), 1000, 10_000, 0, 0, 1, 4, scheduler, clock::get,
                answered::add, endedByContainer::add);
        idle.onError(new RuntimeException(new java.util.concurrent.TimeoutException("Idle timeout expired")));
        assertThat(endedByContainer.get(1).status()).as("the container's own time-out").isEqualTo(408);
    }

    @Test
    void aClientThatSendsNothingForTheIdleTimeOutIsAnswered408() {
        BodyReader reader = reader(100, 1_000);
        recorder.subscription.request(1);
        reader.onDataAvailable();
        assertThat(reader.toString()).contains("reader WAITING");
        clock.set(999);
        reader.tick(clock.get());
        assertThat(recorder.error).isNull();
        clock.set(1_000);
        reader.tick(clock.get());
        assertThat(recorder.error).isInstanceOf(RequestBodyException.class).hasMessageContaining("idle time-out");
        assertThat(answered).extracting(RequestBodyException::status).containsExactly(408);
    }

    @Test
    void aBodyThatTricklesInUnderTheMinimumRateIsAnswered408WhileAFastOneAndAPausedOneAreNot() {
        long second = 1_000_000_000L;
        BodyReader reader = new BodyReader("POST /trickle", in, -1, 1 << 20, 0, 1000, second, 4, scheduler,
                clock::get, answered::add, endedByContainer::add);
        in.setReadListener(reader);
        reader.subscribe(recorder);
        recorder.subscription.request(Long.MAX_VALUE);
        // Fast for a second: 2,000 bytes.
        for (int i = 0; i < 500; i++) {
            in.add("abcd");
        }
        reader.onDataAvailable();
        clock.set(second);
        reader.tick(clock.get());
        assertThat(recorder.error).isNull();
        // Then a byte every half second: 2 bytes/s.
        for (int t = 1; t <= 2; t++) {
            in.add("x");
            reader.onDataAvailable();
            clock.set(second + t * second / 2);
            reader.tick(clock.get());
        }
        assertThat(recorder.error).isInstanceOf(RequestBodyException.class)
                .hasMessageContaining("request body arrived at 2 bytes/s")
                .hasMessageContaining("under this endpoint's minimum of 1000 bytes/s");
        assertThat(answered).extracting(RequestBodyException::status).containsExactly(408);

        // A subscriber that asks for nothing is not the client's fault: no minimum while it waits.
        FakeInput other = new FakeInput();
        Recorder paused = new Recorder();
        BodyReader idle = new BodyReader("POST /paused", other, -1, 1 << 20, 0, 1000, second, 4, scheduler,
                clock::get, answered::add, endedByContainer::add);
        other.setReadListener(idle);
        idle.subscribe(paused);
        idle.onDataAvailable();
        for (int t = 1; t <= 10; t++) {
            clock.set(clock.get() + second);
            idle.tick(clock.get());
        }
        assertThat(paused.error).isNull();
    }

    @Test
    void withoutDemandTheIdleTimeOutDoesNotRun() {
        BodyReader reader = reader(100, 1_000);
        clock.set(10_000);
        reader.tick(clock.get());
        assertThat(recorder.error).isNull();
    }

    @Test
    void anEmptyBodyThatEndedBeforeTheSubscriberCameCompletesOnSubscribe() {
        in.finish();
        BodyReader reader = new BodyReader("POST /empty", in, 0, 10, 0, 0, 1, 4, scheduler, clock::get, answered::add,
                endedByContainer::add);
        in.setReadListener(reader);
        reader.onAllDataRead();
        reader.subscribe(recorder);
        assertThat(recorder.completed).isEqualTo(1);
    }

    @Test
    void aSecondSubscriberIsRefused() {
        BodyReader reader = reader(10, 0);
        Recorder second = new Recorder();
        reader.subscribe(second);
        assertThat(second.error).isInstanceOf(IllegalStateException.class).hasMessageContaining("read once");
    }

    @Test
    void linesAreSplitAcrossBuffersAndALineOverItsLimitIsRefused() {
        in.add("{\"a\":1}\r\n{\"b\":");
        in.add("2}\nlast");
        in.finish();
        BodyReader reader = new BodyReader("POST /lines", in, -1, 100, 0, 0, 1, 4, scheduler, clock::get, answered::add,
                endedByContainer::add);
        in.setReadListener(reader);
        List<String> lines = new ArrayList<>();
        var result = reader.lines(10, lines::add).toCompletableFuture();
        reader.onDataAvailable();
        assertThat(result).isCompletedWithValue(3L);
        assertThat(lines).containsExactly("{\"a\":1}", "{\"b\":2}", "last");

        FakeInput other = new FakeInput();
        other.add("short\nthis line is too long\n");
        BodyReader tooLong = new BodyReader("POST /lines", other, -1, 100, 0, 0, 1, 4, scheduler, clock::get, answered::add,
                endedByContainer::add);
        other.setReadListener(tooLong);
        var failed = tooLong.lines(10, l -> { }).toCompletableFuture();
        tooLong.onDataAvailable();
        assertThat(failed).isCompletedExceptionally();
        assertThat(answered).extracting(RequestBodyException::getMessage)
                .containsExactly("line 2 of the request body is longer than the limit of 10 bytes");
    }

    /** Records the signals a subscriber gets. */
    private static final class Recorder implements Flow.Subscriber<ByteBuffer> {
        Flow.Subscription subscription;
        final StringBuilder received = new StringBuilder();
        int completed;
        int errors;
        Throwable error;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
        }

        @Override
        public void onNext(ByteBuffer item) {
            received.append(StandardCharsets.UTF_8.decode(item));
        }

        @Override
        public void onError(Throwable t) {
            errors++;
            error = t;
        }

        @Override
        public void onComplete() {
            completed++;
        }

        String text() {
            return received.toString();
        }
    }

    /** Plays the container's input stream: chunks that are "available", then the end. */
    private static final class FakeInput extends ServletInputStream {
        final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
        int reads;
        boolean ended;
        private int offset;

        void add(String text) {
            chunks.add(text.getBytes(StandardCharsets.UTF_8));
        }

        void finish() {
            ended = true;
        }

        @Override
        public boolean isFinished() {
            return ended && chunks.isEmpty();
        }

        @Override
        public boolean isReady() {
            return !chunks.isEmpty() || ended;
        }

        @Override
        public void setReadListener(ReadListener listener) {
        }

        @Override
        public int read() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            reads++;
            if (chunks.isEmpty()) {
                return -1;
            }
            byte[] chunk = chunks.peek();
            int n = Math.min(len, chunk.length - offset);
            System.arraycopy(chunk, offset, b, off, n);
            offset += n;
            if (offset == chunk.length) {
                chunks.remove();
                offset = 0;
            }
            return n;
        }
    }
}
