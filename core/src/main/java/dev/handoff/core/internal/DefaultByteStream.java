package dev.handoff.core.internal;

import dev.handoff.core.ByteStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;

public final class DefaultByteStream extends ConnectionHandle implements ByteStream {

    /** For a stream made before its request: the Content-Type it sends where the application set none. */
    private final String contentType;

    /** A stream for a request. */
    public DefaultByteStream(Connection connection) {
        super(connection, false);
        this.contentType = null;
    }

    /** A stream made before its request, to send {@code contentType} where the response has none. */
    public DefaultByteStream(Connection connection, String contentType) {
        super(connection, true);
        this.contentType = contentType;
    }

    /** The Content-Type given when it was made unattached; null for one made for a request. */
    public String contentType() {
        return contentType;
    }

    @Override
    public CompletionStage<Void> write(byte[] bytes) {
        byte[] copy = bytes.clone();
        return connection.write(copy, 0, copy.length);
    }

    @Override
    public CompletionStage<Void> write(ByteBuffer buffer) {
        byte[] copy = new byte[buffer.remaining()];
        buffer.get(copy);
        return connection.write(copy, 0, copy.length);
    }

    /**
     * Queues a slice of an array the caller hands over and does not touch until the stage completes (the
     * container is then done with it): no copy.
     */
    public CompletionStage<Void> writeOwned(byte[] bytes, int offset, int length) {
        return connection.write(bytes, offset, length);
    }

    @Override
    public CompletionStage<Void> write(CharSequence text) {
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        return connection.write(bytes, 0, bytes.length);
    }
}
