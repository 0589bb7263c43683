/**
 * Handoff's public API: hand an HTTP exchange off from the container's thread and stream to it from any
 * thread, without blocking.
 *
 * <ul>
 *   <li>{@link dev.handoff.core.Handoff} — the request's handoff: {@code sse()}, {@code stream()},
 *       {@code respond(status)} ({@link dev.handoff.core.ResponseHead}) and {@code body(limit)}
 *       ({@link dev.handoff.core.RequestBody}); {@link dev.handoff.core.HandoffFilter} makes one per request.</li>
 *   <li>The handles: {@link dev.handoff.core.StreamHandle}, {@link dev.handoff.core.SseStream},
 *       {@link dev.handoff.core.ByteStream}; events: {@link dev.handoff.core.SseEvent}.</li>
 *   <li>Options and time: {@link dev.handoff.core.StreamOptions}, {@link dev.handoff.core.OverflowPolicy},
 *       {@link dev.handoff.core.StreamScheduler}.</li>
 *   <li>How streams end: {@link dev.handoff.core.CloseReason}, {@link dev.handoff.core.CloseStatus}; what is
 *       refused or broken: {@link dev.handoff.core.HandoffRejectedException},
 *       {@link dev.handoff.core.QueueFullException}, {@link dev.handoff.core.StreamClosedException},
 *       {@link dev.handoff.core.RequestBodyException}.</li>
 * </ul>
 *
 * <p>The broker of streams with topics is {@code dev.handoff.registry}; the streaming reverse proxy is
 * {@code dev.handoff.proxy}. The engine under all of them, {@code dev.handoff.core.internal}, is not API.
 *
 * <p>May use: the Servlet 6 API, slf4j, and {@code dev.handoff.core.internal}. Its package-private members that
 * other packages need are reached only through {@code internal.ApiAccess}, installed by
 * {@link dev.handoff.core.Handoff}.
 */
package dev.handoff.core;
