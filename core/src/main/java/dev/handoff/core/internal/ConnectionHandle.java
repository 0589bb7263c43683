package dev.handoff.core.internal;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.StreamHandle;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** The lifecycle half of every stream handle, delegated to its {@link Connection}. */
public abstract class ConnectionHandle implements StreamHandle {

    final Connection connection;
    /** True from its making to its taking for a stream made before its request (unattached). */
    private final AtomicBoolean unattached;

    /** The stream's connection: its queue and writer. */
    public Connection connection() {
        return connection;
    }

    ConnectionHandle(Connection connection, boolean unattached) {
        this.connection = connection;
        this.unattached = new AtomicBoolean(unattached);
    }

    /** Whether this stream was made before its request and no request has taken it yet. */
    public boolean isUnattached() {
        return unattached.get();
    }

    /** A request takes this unattached stream: true once, for the first taker; false if it was never unattached. */
    public boolean take() {
        return unattached.compareAndSet(true, false);
    }

    @Override
    public long id() {
        return connection.id();
    }

    @Override
    public boolean isOpen() {
        return connection.isOpen();
    }

    @Override
    public void close() {
        connection.close(CloseReason.COMPLETED, "closed by the application");
    }

    @Override
    public void close(CloseReason reason, String detail) {
        connection.close(reason, detail);
    }

    @Override
    public void abort(CloseReason reason, String detail) {
        connection.abort(reason, detail, null);
    }

    @Override
    public Optional<CloseStatus> closeStatus() {
        return connection.closeStatus();
    }

    @Override
    public CompletionStage<CloseStatus> whenClosed() {
        return connection.whenClosed();
    }

    @Override
    public void onClose(Consumer<CloseStatus> callback) {
        connection.onClose(callback);
    }

    @Override
    public long queuedBytes() {
        return connection.queuedBytes();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + (isUnattached() ? "unattached, " : "") + connection + "]";
    }
}
