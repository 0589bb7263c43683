/**
 * The streaming reverse proxy: {@link dev.handoff.proxy.StreamingProxy} forwards a handed-off request to a
 * backend and streams the response back with backpressure both ways; {@link dev.handoff.proxy.ProxyHooks}
 * changes the target, headers and answers; {@link dev.handoff.proxy.ProxyHeaders} is the header map the
 * hooks see.
 *
 * <p>The HTTP client sits behind {@code Upstream}: the JDK's ({@code JdkUpstream}, the default) or Jetty's
 * ({@code JettyUpstream}, chosen with {@code jettyClient()}). {@code JettyUpstream} is the only class in core
 * that names a Jetty type; it is loaded only when the application picks it, so Jetty's client stays an
 * optional dependency and no public signature names it.
 *
 * <p>May use {@code dev.handoff.core} and, of the engine, only this seam:
 * <ul>
 *   <li>{@code ApiAccess}: {@code request}, {@code response}, {@code beginAsync}, {@code completeWithoutBody},
 *       {@code contentLength}, {@code register}/{@code unregister} (the relay's idle time-out on the
 *       scheduler's sweep);</li>
 *   <li>{@code DefaultByteStream.writeOwned} (hand a buffer over without a copy) and {@code Timed};</li>
 *   <li>the rules: {@code NoBody}, {@code HeaderRules}, {@code FailureText}, {@code SseEncoder.quote}.</li>
 * </ul>
 */
package dev.handoff.proxy;

import dev.handoff.core.internal.ApiAccess;
import dev.handoff.core.internal.DefaultByteStream;
import dev.handoff.core.internal.FailureText;
import dev.handoff.core.internal.HeaderRules;
import dev.handoff.core.internal.NoBody;
import dev.handoff.core.internal.SseEncoder;
import dev.handoff.core.internal.Timed;
