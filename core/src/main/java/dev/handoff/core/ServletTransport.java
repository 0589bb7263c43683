package dev.handoff.core;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Binds a {@link Connection} to a container: its output stream in non-blocking mode, and the container's
 * write and async events, which it forwards to the connection (errors become close reasons there).
 */
final class ServletTransport implements Transport, WriteListener, AsyncListener {

    private final AsyncContext async;
    private final ServletOutputStream out;
    private final Connection connection;
    private final AtomicBoolean completed = new AtomicBoolean();

    ServletTransport(AsyncContext async, ServletOutputStream out, Connection connection) {
        this.async = async;
        this.out = out;
        this.connection = connection;
    }

    // ---- Transport: called by the connection's writer.

    @Override
    public boolean isReady() {
        return out.isReady();
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        out.write(bytes, offset, length);
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void complete() {
        if (completed.compareAndSet(false, true)) {
            async.complete();
        }
    }

    // ---- WriteListener: container threads.

    @Override
    public void onWritePossible() {
        connection.onWritePossible();
    }

    @Override
    public void onError(Throwable t) {
        connection.onContainerError(t);
    }

    // ---- AsyncListener: container threads.

    @Override
    public void onComplete(AsyncEvent event) {
        boolean byUs = !completed.compareAndSet(false, true);
        if (!byUs) {
            connection.onContainerComplete();
        }
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        // Handoff sets no container time-out; a container that enforces one anyway ends the stream here.
        connection.abort(CloseReason.IDLE_TIMEOUT, "the container's async time-out expired", null);
    }

    @Override
    public void onError(AsyncEvent event) {
        Throwable t = event.getThrowable();
        connection.onContainerError(t != null ? t : new IOException("the container reported an error"));
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // A stream's async cycle is never restarted.
    }
}
