package dev.handoff.core.internal;

import java.util.concurrent.CompletableFuture;

/**
 * One queued write: a slice of an immutable array (an encoded SSE frame may be shared by many streams)
 * and, where the producer asked for one, the completion to signal when the container took the bytes and is
 * ready for more.
 */
final class Write {

    private final byte[] bytes;
    private final int offset;
    private final int length;
    private final CompletableFuture<Void> completion;

    Write(byte[] bytes, int offset, int length, CompletableFuture<Void> completion) {
        this.bytes = bytes;
        this.offset = offset;
        this.length = length;
        this.completion = completion;
    }

    byte[] bytes() {
        return bytes;
    }

    int offset() {
        return offset;
    }

    int length() {
        return length;
    }

    boolean hasCompletion() {
        return completion != null;
    }

    void succeed() {
        if (completion != null) {
            completion.complete(null);
        }
    }

    void fail(Throwable cause) {
        if (completion != null) {
            completion.completeExceptionally(cause);
        }
    }
}
