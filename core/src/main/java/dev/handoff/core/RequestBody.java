package dev.handoff.core;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.Consumer;

/**
 * A request body read as it arrives, without a thread waiting on the socket: a
 * {@link Flow.Publisher} whose demand drives the reads. Each {@code request(n)} allows {@code n} more
 * reads of at most one buffer each, so nothing is read ahead of demand beyond one buffer; the buffers
 * passed to {@code onNext} belong to the subscriber. One subscriber per body.
 *
 * <p>The body's limits are checked as it streams: over its size limit the subscriber gets a
 * {@link RequestBodyException} (413), and if nothing arrives for the idle time-out while the subscriber
 * wants more, one with 408. Where the application has not started a response, Handoff then answers the
 * request with that status and closes the connection.
 *
 * <pre>{@code
 * RequestBody body = Handoff.from(request).body(100 << 20);        // 413 at once if Content-Length is over
 * body.toFile(upload).thenAccept(bytes -> ...);                     // no thread blocked while it arrives
 * }</pre>
 */
public interface RequestBody extends Flow.Publisher<ByteBuffer> {

    /** The declared length ({@code Content-Length}), or -1 for a chunked body. */
    long contentLength();

    /** Bytes read so far. */
    long bytesRead();

    /** The most bytes this body may have. */
    long maxBytes();

    /**
     * Writes the body to {@code file} (created or truncated) with asynchronous file I/O, one buffer at a
     * time; completes with the number of bytes. On failure the partial file is deleted.
     */
    CompletionStage<Long> toFile(Path file);

    /**
     * Splits the body into UTF-8 lines (LF or CRLF ends a line; a last line without one counts) and hands each
     * to {@code onLine}, for example one NDJSON record at a time; completes with the number of lines. A line
     * longer than {@code maxLineBytes} fails the body with a {@link RequestBodyException} (413).
     */
    CompletionStage<Long> lines(int maxLineBytes, Consumer<String> onLine);
}
