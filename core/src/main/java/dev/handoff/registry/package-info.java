/**
 * The broker: a {@link dev.handoff.registry.StreamRegistry} of SSE streams with topics, broadcast, replay
 * after reconnect ({@code Last-Event-ID}), heartbeats, limits and listeners.
 *
 * <p>Public: {@link dev.handoff.registry.StreamRegistry} and its builder, {@link dev.handoff.registry.Subscriber},
 * {@link dev.handoff.registry.RegistryListener}, {@link dev.handoff.registry.TopicAuthorizer},
 * {@link dev.handoff.registry.Refusal}, {@link dev.handoff.registry.RegistryStats}. Inside: topics and their
 * replay rings ({@code Topic}), one subscribed stream ({@code Member}), the fan-out stripes ({@code FanOut}) and
 * the catch-up cursor ({@code CatchUp}).
 *
 * <p>May use {@code dev.handoff.core} and, of the engine, only this seam:
 * <ul>
 *   <li>{@code ApiAccess}: {@code openSse(handoff, unattached, beforeCommit)} (subscribe before the head is
 *       committed, onto a new stream or an unattached one),
 *       {@code request(handoff)}, {@code frame(event)};</li>
 *   <li>{@code DefaultSseStream} and its {@code connection()}: {@code Connection.offerWithin} (queue a frame
 *       within a bound, or be called back when there is room), {@code offerShared}, {@code queueBound},
 *       {@code queuedBytes}, {@code countBytesInto}, {@code Connection.Delivery} and {@code Connection.JOIN_BYTES}
 *       (how long a run of joined events may be);</li>
 *   <li>{@code OwnerLoop}, on the scheduler's pool: one owner per fan-out stripe;</li>
 *   <li>{@code SseEncoder.prependId} (a published frame gets its id once) and {@code SseEncoder.quote}.</li>
 * </ul>
 */
package dev.handoff.registry;

import dev.handoff.core.internal.ApiAccess;
import dev.handoff.core.internal.Connection;
import dev.handoff.core.internal.DefaultSseStream;
import dev.handoff.core.internal.OwnerLoop;
import dev.handoff.core.internal.SseEncoder;
