package dev.handoff.core.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;

/**
 * Writes a request body to a file with asynchronous file I/O, asking for the next buffer only when the last
 * one is on disk: the body is read exactly as fast as the disk takes it, and no thread waits on either.
 *
 * <p>What follows a write (the next demand, which reads from the container; the result, which the application's
 * callbacks follow) runs on {@code continueOn}, not on the JDK's file I/O thread: on JDK 25 those are innocuous
 * threads that may not set a context class loader, and Tomcat sets one when it dispatches.
 */
final class FileSink implements Flow.Subscriber<ByteBuffer>, CompletionHandler<Integer, ByteBuffer> {

    private final Path file;
    private final Executor continueOn;
    private final CompletableFuture<Long> result = new CompletableFuture<>();
    private AsynchronousFileChannel channel;
    private Flow.Subscription subscription;
    /** Bytes on disk; written by one write completion at a time (each write starts after the last ended). */
    private volatile long position;
    private volatile boolean done;
    /** A write is in flight; guarded by this. onComplete may arrive before it ends (it needs no demand). */
    private boolean writing;
    private boolean completeWhenWritten;

    FileSink(Path file, Executor continueOn) {
        this.file = file;
        this.continueOn = continueOn;
    }

    CompletionStage<Long> result() {
        return result.minimalCompletionStage();
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        this.subscription = s;
        try {
            channel = AsynchronousFileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException | RuntimeException e) {
            s.cancel();
            result.completeExceptionally(e);
            return;
        }
        s.request(1);
    }

    @Override
    public void onNext(ByteBuffer buffer) {
        synchronized (this) {
            writing = true;
        }
        channel.write(buffer, position, buffer, this);
    }

    @Override
    public void completed(Integer written, ByteBuffer buffer) {
        continueOn.execute(() -> written(written, buffer));
    }

    private void written(int written, ByteBuffer buffer) {
        position += written;
        if (buffer.hasRemaining()) {
            channel.write(buffer, position, buffer, this);
            return;
        }
        boolean finish;
        synchronized (this) {
            writing = false;
            finish = completeWhenWritten;
        }
        if (finish) {
            finish();
        } else {
            subscription.request(1);
        }
    }

    @Override
    public void failed(Throwable e, ByteBuffer buffer) {
        continueOn.execute(() -> {
            subscription.cancel();
            abandon(e);
        });
    }

    @Override
    public void onError(Throwable e) {
        abandon(e);
    }

    @Override
    public void onComplete() {
        synchronized (this) {
            if (writing) {
                completeWhenWritten = true;
                return;
            }
        }
        finish();
    }

    private void finish() {
        try {
            channel.close();
            done = true;
            result.complete(position);
        } catch (IOException e) {
            abandon(e);
        }
    }

    /** A partial file would look like a whole one: delete it. */
    private void abandon(Throwable e) {
        if (done) {
            return;
        }
        done = true;
        try {
            if (channel != null) {
                channel.close();
            }
            Files.deleteIfExists(file);
        } catch (IOException cleanup) {
            e.addSuppressed(cleanup);
        }
        result.completeExceptionally(e);
    }
}
