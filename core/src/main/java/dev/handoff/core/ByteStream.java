package dev.handoff.core;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletionStage;

/**
 * A raw streamed response body (chunked on HTTP/1.1), for example {@code application/x-ndjson} or
 * {@code application/octet-stream}. Writes copy the given bytes, queue them and return at once; the
 * stage completes when the container no longer needs them (as for {@link SseStream#send}), so a producer
 * that writes its next piece on completion goes at the client's pace. The same queue bound, overflow policy and time-outs
 * apply as for {@link SseStream}.
 */
public interface ByteStream extends StreamHandle {

    /** Queues a copy of {@code bytes}. */
    CompletionStage<Void> write(byte[] bytes);

    /** Queues a copy of the remaining bytes of {@code buffer}, consuming them. */
    CompletionStage<Void> write(ByteBuffer buffer);

    /** Queues {@code text} encoded as UTF-8. */
    CompletionStage<Void> write(CharSequence text);
}
