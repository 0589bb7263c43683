/**
 * The engine. <b>Not API:</b> every type here may change or go in any release; applications must not use
 * them (the convention of Jetty's and Netty's {@code internal} packages). Its public types exist only so that
 * {@code dev.handoff.core}, {@code dev.handoff.registry} and {@code dev.handoff.proxy} can share it.
 *
 * <ul>
 *   <li>The connection: {@link dev.handoff.core.internal.Connection} (a byte-bounded
 *       {@code OutboundQueue} of {@code Write}s and its
 *       writer), the container's output behind {@code Transport}
 *       ({@link dev.handoff.core.internal.ServletTransport}), the async exchange
 *       ({@link dev.handoff.core.internal.Exchange}, cut by {@code TomcatActions} and
 *       {@code JettyAbort}; its kernel send buffer capped by {@code SendBuffer}; the ways into the containers
 *       for those three in {@code ContainerInside}), the handles over it
 *       ({@link dev.handoff.core.internal.DefaultSseStream}, {@link dev.handoff.core.internal.DefaultByteStream}).</li>
 *   <li>Request bodies: {@link dev.handoff.core.internal.BodyReader}, {@code FileSink},
 *       {@code LineSplitter}.</li>
 *   <li>The one loop that owns a piece of work at a time: {@link dev.handoff.core.internal.OwnerLoop}.</li>
 *   <li>One home per rule: {@link dev.handoff.core.internal.NoBody} (bodiless statuses),
 *       {@link dev.handoff.core.internal.HeaderRules} (header names and values),
 *       {@link dev.handoff.core.internal.SseEncoder} (SSE fields and frames),
 *       {@link dev.handoff.core.internal.FailureText} (what a failure is called in a log line).</li>
 *   <li>{@link dev.handoff.core.internal.ApiAccess}: the API classes' package-private members, for this package,
 *       the registry and the proxy.</li>
 * </ul>
 *
 * <p>May use: the Servlet 6 API, slf4j, {@code dev.handoff.core}; containers' own classes only by reflection
 * (Tomcat's and Jetty's aborts), so that core runs on either.
 */
package dev.handoff.core.internal;
