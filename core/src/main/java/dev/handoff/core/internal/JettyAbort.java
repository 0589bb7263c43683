package dev.handoff.core.internal;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
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
 * (an HTTP/2 stream is reset by {@code sendError(-1)} alone). Jetty's core is not a dependency of Handoff's,
 * so its objects are reached by reflection, once per class; any failure means "not here".
 */
final class JettyAbort {

    private static final Logger log = LoggerFactory.getLogger(JettyAbort.class);
    private static final String API_REQUEST = "org.eclipse.jetty.ee10.servlet.ServletApiRequest";

    private JettyAbort() {
    }

    private record Path(Method coreRequest, Method metaData, Method httpVersion, Method connection,
            Method endPoint, Method close) {
    }

    /** The reflective path from a servlet request to its endpoint's close, per request class; null off Jetty. */
    private static final ClassValue<Path> PATH = new ClassValue<>() {
        @Override
        protected Path computeValue(Class<?> type) {
            if (!type.getName().equals(API_REQUEST)) {
                return null;
            }
            try {
                Class<?> jetty = Class.forName("org.eclipse.jetty.util.Jetty", false, type.getClassLoader());
                String version = String.valueOf(jetty.getField("VERSION").get(null));
                if (!version.startsWith("12.0.")) {
                    return null; // Jetty 12.1 fails the pending write itself; closing here only adds warnings.
                }
                Method coreRequest = type.getMethod("getRequest");
                Method metaData = coreRequest.getReturnType().getMethod("getConnectionMetaData");
                Method httpVersion = metaData.getReturnType().getMethod("getHttpVersion");
                Method connection = metaData.getReturnType().getMethod("getConnection");
                Method endPoint = connection.getReturnType().getMethod("getEndPoint");
                Method close = endPoint.getReturnType().getMethod("close", Throwable.class);
                return new Path(coreRequest, metaData, httpVersion, connection, endPoint, close);
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.debug("cannot reach Jetty's endpoint from {}: {}", type.getName(), e.toString());
                return null;
            }
        }
    };

    /** Closes the request's HTTP/1 connection; returns false where it is not Jetty, not HTTP/1, or not reachable. */
    static boolean closeHttp1(ServletRequest request, String why) {
        ServletRequest r = request;
        while (r instanceof ServletRequestWrapper w) {
            r = w.getRequest();
        }
        Path path = r == null ? null : PATH.get(r.getClass());
        if (path == null) {
            return false;
        }
        try {
            Object core = path.coreRequest().invoke(r);
            if (core == null) {
                return false; // Recycled: the exchange is over.
            }
            Object meta = path.metaData().invoke(core);
            if (!String.valueOf(path.httpVersion().invoke(meta)).startsWith("HTTP/1")) {
                return false;
            }
            Object endPoint = path.endPoint().invoke(path.connection().invoke(meta));
            path.close().invoke(endPoint, new java.io.IOException(why));
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("cannot close Jetty's endpoint: {}", e.toString());
            return false;
        }
    }
}
