package dev.handoff.spring;

import dev.handoff.core.ByteStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** A raw {@link ByteStream} a controller returns; attached to the real one after it returns. */
final class PendingByteStream extends PendingStream<ByteStream> implements ByteStream {

    /** The Content-Type to send where the controller set none. */
    final String contentType;

    PendingByteStream(int maxBufferedBytes, String contentType) {
        super(maxBufferedBytes);
        this.contentType = contentType;
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> write(byte[] bytes) {
        byte[] copy = bytes.clone();
        return submit(copy.length, s -> s.write(copy));
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> write(ByteBuffer buffer) {
        byte[] copy = new byte[buffer.remaining()];
        buffer.get(copy);
        return write(copy);
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> write(CharSequence text) {
        return write(text.toString().getBytes(StandardCharsets.UTF_8));
    }
}
