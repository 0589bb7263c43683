package dev.handoff.core.internal;

import dev.handoff.core.RequestBodyException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.Consumer;

/**
 * Splits a request body into UTF-8 lines, one buffer at a time, holding at most one unfinished line, which
 * may not grow past its limit. LF ends a line (a CR before it is dropped); splitting on the LF byte is safe
 * in UTF-8, where that byte occurs in no other character.
 */
final class LineSplitter implements Flow.Subscriber<ByteBuffer> {

    private final int maxLineBytes;
    private final Consumer<String> onLine;
    private final CompletableFuture<Long> result = new CompletableFuture<>();
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private Flow.Subscription subscription;
    private long lines;
    private boolean failed;

    LineSplitter(int maxLineBytes, Consumer<String> onLine) {
        if (maxLineBytes < 1) {
            throw new IllegalArgumentException("maxLineBytes must be at least 1: " + maxLineBytes);
        }
        this.maxLineBytes = maxLineBytes;
        this.onLine = onLine;
    }

    CompletionStage<Long> result() {
        return result.minimalCompletionStage();
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        this.subscription = s;
        s.request(1);
    }

    @Override
    public void onNext(ByteBuffer buffer) {
        while (buffer.hasRemaining() && !failed) {
            byte b = buffer.get();
            if (b == '\n') {
                emit();
            } else if (line.size() >= maxLineBytes) {
                failed = true;
                subscription.cancel();
                result.completeExceptionally(new RequestBodyException(413, "line " + (lines + 1) + " of the request "
                        + "body is longer than the limit of " + maxLineBytes + " bytes"));
            } else {
                line.write(b);
            }
        }
        if (!failed) {
            subscription.request(1);
        }
    }

    private void emit() {
        byte[] bytes = line.toByteArray();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        line.reset();
        lines++;
        try {
            onLine.accept(new String(bytes, 0, length, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            failed = true;
            subscription.cancel();
            result.completeExceptionally(e);
        }
    }

    @Override
    public void onError(Throwable e) {
        result.completeExceptionally(e);
    }

    @Override
    public void onComplete() {
        if (line.size() > 0 && !failed) {
            emit();
        }
        if (!failed) {
            result.complete(lines);
        }
    }
}
