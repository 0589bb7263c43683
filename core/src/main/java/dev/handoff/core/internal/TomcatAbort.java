package dev.handoff.core.internal;

import jakarta.servlet.ServletResponse;
import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts a committed response's connection on Tomcat, which the servlet API cannot do (jakartaee/servlet#98)
 * and Tomcat refuses through {@code sendError(-1)} once the response is committed. Tomcat's own way is its
 * {@code CLOSE_NOW} action on the connector's response: no further bytes are written (no last chunk), and
 * the connection is closed when the async cycle completes. That action is not public API, so it is reached
 * by reflection, once per class, and any failure means "cannot cut here": the caller then completes the
 * response as before.
 */
final class TomcatAbort {

    private static final Logger log = LoggerFactory.getLogger(TomcatAbort.class);

    private TomcatAbort() {
    }

    /** Tomcat's CLOSE_NOW action, per coyote response class; null where it cannot be reached. */
    private static final ClassValue<CloseNow> CLOSE_NOW = new ClassValue<>() {
        @Override
        protected CloseNow computeValue(Class<?> coyote) {
            try {
                Class<?> actionCode = Class.forName("org.apache.coyote.ActionCode", false, coyote.getClassLoader());
                return new CloseNow(coyote.getMethod("action", actionCode, Object.class),
                        enumConstant(actionCode, "CLOSE_NOW"));
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.debug("cannot reach Tomcat's CLOSE_NOW action: {}", e.toString());
                return null;
            }
        }
    };

    private record CloseNow(Method action, Object closeNow) {
    }

    /** Returns true if the connection of {@code response} will be closed without finishing its body. */
    static boolean closeNow(ServletResponse response) {
        try {
            Object coyote = ContainerInside.tomcatCoyoteResponse(response);
            CloseNow handle = coyote == null ? null : CLOSE_NOW.get(coyote.getClass());
            if (handle == null) {
                return false;
            }
            handle.action().invoke(coyote, handle.closeNow(), null);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("cannot cut the connection through Tomcat's CLOSE_NOW action: {}", e.toString());
            return false;
        }
    }

    private static Object enumConstant(Class<?> type, String name) {
        for (Object constant : type.getEnumConstants()) {
            if (((Enum<?>) constant).name().equals(name)) {
                return constant;
            }
        }
        throw new IllegalStateException(type.getName() + " has no " + name);
    }
}
