package dev.handoff.registry;

import dev.handoff.core.SseStream;
import dev.handoff.core.StreamHandle;
import java.security.Principal;
import java.util.Optional;
import java.util.Set;

/**
 * A stream as a {@link StreamRegistry} sees it: the handle, the topics it follows, and who opened it. What
 * {@link RegistryListener}s receive.
 */
public interface Subscriber {

    /** The stream's id, as in {@link StreamHandle#id()} and the log lines. */
    long id();

    /** The stream itself; the application may also send to it directly. */
    SseStream stream();

    /** The topics it follows now (a snapshot). */
    Set<String> topics();

    /** The client key the registry computed when the stream opened (the per-client limit counts by it). */
    String clientKey();

    /** The authenticated user of the request that opened the stream, if any. */
    Optional<Principal> principal();
}
