package dev.handoff.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.OverflowPolicy;
import dev.handoff.core.internal.OutboundQueue.Admission;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class OutboundQueueTest {

    private static Write write(int length) {
        return new Write(new byte[length], 0, length, new CompletableFuture<>());
    }

    @Test
    void anEmptyQueueAdmitsAWriteLargerThanTheBound() {
        OutboundQueue q = new OutboundQueue(10, OverflowPolicy.DISCONNECT);
        assertThat(q.offer(write(100))).isEqualTo(Admission.QUEUED);
        assertThat(q.bytes()).isEqualTo(100);
        assertThat(q.offer(write(1))).isEqualTo(Admission.OVERFLOW);
    }

    @Test
    void disconnectReportsOverflowAndKeepsWhatItHad() {
        OutboundQueue q = new OutboundQueue(10, OverflowPolicy.DISCONNECT);
        assertThat(q.offer(write(6))).isEqualTo(Admission.QUEUED);
        assertThat(q.offer(write(4))).isEqualTo(Admission.QUEUED);
        assertThat(q.offer(write(1))).isEqualTo(Admission.OVERFLOW);
        assertThat(q.bytes()).isEqualTo(10);
        assertThat(q.size()).isEqualTo(2);
    }

    @Test
    void failWriteRefusesOnlyTheNewWrite() {
        OutboundQueue q = new OutboundQueue(10, OverflowPolicy.FAIL_WRITE);
        q.offer(write(8));
        assertThat(q.offer(write(3))).isEqualTo(Admission.REFUSED);
        assertThat(q.offer(write(2))).isEqualTo(Admission.QUEUED);
        assertThat(q.bytes()).isEqualTo(10);
    }

    @Test
    void dropOldestDiscardsWholeWritesOldestFirstUntilTheNewOneFits() {
        OutboundQueue q = new OutboundQueue(10, OverflowPolicy.DROP_OLDEST);
        Write a = write(4);
        Write b = write(4);
        Write c = write(2);
        q.offer(a);
        q.offer(b);
        q.offer(c);
        assertThat(q.takeDropped()).isNull();
        Write d = write(6);
        assertThat(q.offer(d)).isEqualTo(Admission.QUEUED);
        assertThat(q.takeDropped()).containsExactly(a, b);
        assertThat(q.takeDropped()).isNull();
        assertThat(q.bytes()).isEqualTo(8);
        assertThat(q.poll()).isSameAs(c);
        assertThat(q.poll()).isSameAs(d);
        assertThat(q.poll()).isNull();
        assertThat(q.bytes()).isZero();
    }
}
