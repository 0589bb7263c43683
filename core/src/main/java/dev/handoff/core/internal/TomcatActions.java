package dev.handoff.core.internal;

import jakarta.servlet.ServletResponse;
import java.lang.reflect.Method;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two things Tomcat does that the servlet API cannot ask for, reached through its connector's own actions:
 * <ul>
 *   <li>{@code CLOSE_NOW}: cut a committed response's connection (jakartaee/servlet#98), which Tomcat refuses
 *       through {@code sendError(-1)} once the response is committed. No further bytes are written (no last
 *       chunk), and the connection is closed when the async cycle completes.</li>
 *   <li>{@code DISABLE_SWALLOW_INPUT}: finish a request whose body is left unread and close its connection,
 *       instead of reading and discarding the rest of the body (up to Tomcat's {@code maxSwallowSize}) with a
 *       blocking read on a container thread when the request ends ({@link UnreadBody} uses it once it stops
 *       draining). Tomcat does the same for a form it refuses as too large.</li>
 * </ul>
 * The actions are not public API, so they are reached by reflection, once per class, and any failure means "not
 * here": the caller goes on as the servlet API alone allows (logged at debug).
 */
final class TomcatActions {

    private static final Logger log = LoggerFactory.getLogger(TomcatActions.class);

    private TomcatActions() {
    }

    /** Tomcat's coyote action method and the two action codes, per coyote response class; null where unreachable. */
    private static final ClassValue<Actions> ACTIONS = new ClassValue<>() {
        @Override
        protected Actions computeValue(Class<?> coyote) {
            try {
                Class<?> actionCode = Class.forName("org.apache.coyote.ActionCode", false, coyote.getClassLoader());
                return new Actions(coyote.getMethod("action", actionCode, Object.class),
                        enumConstant(actionCode, "CLOSE_NOW"), enumConstant(actionCode, "DISABLE_SWALLOW_INPUT"));
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.debug("cannot reach Tomcat's connector actions: {}", e.toString());
                return null;
            }
        }
    };

    private record Actions(Method action, Object closeNow, Object disableSwallowInput) {
    }

    /** Returns true if the connection of {@code response} will be closed without finishing its body. */
    static boolean closeNow(ServletResponse response) {
        return act(response, Actions::closeNow);
    }

    /**
     * Returns true if Tomcat will finish the request of {@code response} without reading the rest of its body, and
     * close the connection; false off Tomcat.
     */
    static boolean skipUnreadBody(ServletResponse response) {
        return act(response, Actions::disableSwallowInput);
    }

    private static boolean act(ServletResponse response, Function<Actions, Object> code) {
        try {
            Object coyote = ContainerInside.tomcatCoyoteResponse(response);
            Actions actions = coyote == null ? null : ACTIONS.get(coyote.getClass());
            if (actions == null) {
                return false;
            }
            actions.action().invoke(coyote, code.apply(actions), null);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("cannot apply a Tomcat connector action: {}", e.toString());
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
