package dev.handoff.core.internal;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import java.io.IOException;
import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes the socket of an HTTP/1 request on Jetty before its response is aborted, so that a write the
 * container still holds (a client that stopped reading) fails first.
 *
 * <p>Why: Jetty 12.0's {@code sendError(-1)} aborts the servlet channel, whose completion then fails the
 * channel's callback while that write is pending ({@code IllegalStateException: write pending}); when the
 * write fails later, Jetty logs {@code WARN AbstractConnection: Failed callback} with a 40-line trace, for
 * every slow consumer cut. Jetty 12.1 fails the pending write itself, and closing the endpoint there can
 * make it warn of the closed channel, so this is for Jetty 12.0 only (Spring Boot 3.5's). Closing the
 * endpoint is what cutting means anyway; on HTTP/2 it would close every stream of the connection, so only HTTP/1 is closed here
 * (an HTTP/2 stream is reset by {@code sendError(-1)} alone). The end point is reached through
 * {@link ContainerInside}; any failure means "not here".
 */
final class JettyAbort {

    private static final Logger log = LoggerFactory.getLogger(JettyAbort.class);

    private JettyAbort() {
    }

    /** The end point's {@code close(Throwable)}, per end point class; null where it has none. */
    private static final ClassValue<Method> CLOSE = new ClassValue<>() {
        @Override
        protected Method computeValue(Class<?> endPoint) {
            try {
                return endPoint.getMethod("close", Throwable.class);
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.debug("cannot close Jetty's end point {}: {}", endPoint.getName(), e.toString());
                return null;
            }
        }
    };

    /** Whether this is Jetty 12.0, per class loader of the servlet request (see the class description). */
    private static final ClassValue<Boolean> JETTY_12_0 = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            try {
                Class<?> jetty = Class.forName("org.eclipse.jetty.util.Jetty", false, type.getClassLoader());
                return String.valueOf(jetty.getField("VERSION").get(null)).startsWith("12.0.");
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                return false;
            }
        }
    };

    /** Closes the request's HTTP/1 connection; returns false where it is not Jetty, not HTTP/1, or not reachable. */
    static boolean closeHttp1(ServletRequest request, String why) {
        ServletRequest r = request;
        while (r instanceof ServletRequestWrapper w) {
            r = w.getRequest();
        }
        if (r == null || !JETTY_12_0.get(r.getClass())) {
            return false; // Not Jetty, or Jetty 12.1, which fails the pending write itself.
        }
        try {
            Object endPoint = ContainerInside.jettyHttp1EndPoint(r);
            Method close = endPoint == null ? null : CLOSE.get(endPoint.getClass());
            if (close == null) {
                return false;
            }
            close.invoke(endPoint, new IOException(why));
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("cannot close Jetty's endpoint: {}", e.toString());
            return false;
        }
    }
}
