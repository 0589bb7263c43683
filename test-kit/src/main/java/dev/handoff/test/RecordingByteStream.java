package dev.handoff.test;

import dev.handoff.core.ByteStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;

/**
 * A {@link ByteStream} that records what is written to it, for unit tests of code that streams a body (an export,
 * NDJSON rows), with no server: every write completes at once, unless the stream was closed. Thread-safe.
 */
public final class RecordingByteStream extends RecordingHandle implements ByteStream {

    private final ByteArrayOutputStream written = new ByteArrayOutputStream();

    @Override
    public CompletionStage<Void> write(byte[] bytes) {
        byte[] copy = bytes.clone();
        return recordWrite(() -> written.write(copy, 0, copy.length));
    }

    @Override
    public CompletionStage<Void> write(ByteBuffer buffer) {
        byte[] copy = new byte[buffer.remaining()];
        buffer.get(copy);
        return write(copy);
    }

    @Override
    public CompletionStage<Void> write(CharSequence text) {
        return write(text.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Every byte written, in order. */
    public synchronized byte[] bytes() {
        return written.toByteArray();
    }

    /** What was written, as UTF-8 text. */
    public synchronized String text() {
        return written.toString(StandardCharsets.UTF_8);
    }

    @Override
    public synchronized String toString() {
        return "RecordingByteStream[" + id() + ", " + written.size() + " bytes" + closeStatus().map(s -> ", " + s)
                .orElse("") + "]";
    }
}
