package dev.handoff.core.internal;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two ways into a container that the servlet API does not offer, shared by {@link TomcatActions},
 * {@link JettyAbort} and {@link SendBuffer}: Tomcat's coyote response behind a response facade, and Jetty's
 * HTTP/1 end point behind a servlet request. Neither container is a dependency of Handoff's, so their objects
 * are reached by reflection, looked up once per class; any failure means "not here" (null), logged at debug.
 */
final class ContainerInside {

    private static final Logger log = LoggerFactory.getLogger(ContainerInside.class);
    private static final String TOMCAT_FACADE = "org.apache.catalina.connector.ResponseFacade";
    private static final String JETTY_REQUEST = "org.eclipse.jetty.ee10.servlet.ServletApiRequest";

    private ContainerInside() {
    }

    /** Tomcat's path from the response facade to its coyote response. */
    private record TomcatPath(Field response, Method coyoteResponse) {
    }

    private static final ClassValue<TomcatPath> TOMCAT = new ClassValue<>() {
        @Override
        protected TomcatPath computeValue(Class<?> facade) {
            if (!facade.getName().equals(TOMCAT_FACADE)) {
                return null;
            }
            try {
                Field response = facade.getDeclaredField("response");
                response.setAccessible(true);
                return new TomcatPath(response, response.getType().getMethod("getCoyoteResponse"));
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.debug("cannot reach Tomcat's coyote response from {}: {}", facade.getName(), e.toString());
                return null;
            }
        }
    };

    /** Jetty's path from the servlet request to its connection's end point. */
    private record JettyPath(Method coreRequest, Method metaData, Method httpVersion, Method connection,
            Method endPoint) {
    }

    private static final ClassValue<JettyPath> JETTY = new ClassValue<>() {
        @Override
        protected JettyPath computeValue(Class<?> type) {
            if (!type.getName().equals(JETTY_REQUEST)) {
                return null;
            }
            try {
                Method coreRequest = type.getMethod("getRequest");
                Method metaData = coreRequest.getReturnType().getMethod("getConnectionMetaData");
                Method httpVersion = metaData.getReturnType().getMethod("getHttpVersion");
                Method connection = metaData.getReturnType().getMethod("getConnection");
                Method endPoint = connection.getReturnType().getMethod("getEndPoint");
                return new JettyPath(coreRequest, metaData, httpVersion, connection, endPoint);
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.debug("cannot reach Jetty's end point from {}: {}", type.getName(), e.toString());
                return null;
            }
        }
    };

    /** Tomcat's {@code org.apache.coyote.Response} behind {@code response}; null off Tomcat. */
    static Object tomcatCoyoteResponse(ServletResponse response) throws ReflectiveOperationException {
        ServletResponse r = response;
        while (r instanceof ServletResponseWrapper w) {
            r = w.getResponse();
        }
        TomcatPath path = r == null ? null : TOMCAT.get(r.getClass());
        return path == null ? null : path.coyoteResponse().invoke(path.response().get(r));
    }

    /**
     * Jetty's end point of the HTTP/1 connection of {@code request}; null off Jetty, on HTTP/2 (its connection
     * carries other streams) or once the request was recycled.
     */
    static Object jettyHttp1EndPoint(ServletRequest request) throws ReflectiveOperationException {
        ServletRequest r = request;
        while (r instanceof ServletRequestWrapper w) {
            r = w.getRequest();
        }
        JettyPath path = r == null ? null : JETTY.get(r.getClass());
        if (path == null) {
            return null;
        }
        Object core = path.coreRequest().invoke(r);
        if (core == null) {
            return null;
        }
        Object meta = path.metaData().invoke(core);
        if (!String.valueOf(path.httpVersion().invoke(meta)).startsWith("HTTP/1")) {
            return null;
        }
        return path.endPoint().invoke(path.connection().invoke(meta));
    }
}
