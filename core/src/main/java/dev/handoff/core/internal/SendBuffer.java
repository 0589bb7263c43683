package dev.handoff.core.internal;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.StandardSocketOptions;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps the kernel's send buffer ({@code SO_SNDBUF}) of a handed-off HTTP/1 connection, so that a client that
 * stops reading is seen by its stream's queue after a few kilobytes instead of the megabytes Linux lets an
 * uncapped buffer grow to. The servlet API gives no way to the socket; Tomcat and Jetty each have one inside,
 * reached here by reflection, once per class, and any failure means "not here": the connection then keeps the
 * system's buffer. HTTP/2 is left alone: its connection carries other streams.
 *
 * <ul>
 *   <li>Tomcat: the coyote response ({@link ContainerInside}), its processor (an {@code Http11Processor} only),
 *       the processor's socket wrapper, its channel's {@code getIOChannel()}.</li>
 *   <li>Jetty: the HTTP/1 end point ({@link ContainerInside}; a socket channel end point only, so plain HTTP/1:
 *       TLS wraps it), {@code getChannel()}.</li>
 * </ul>
 */
final class SendBuffer {

    private static final Logger log = LoggerFactory.getLogger(SendBuffer.class);
    private static final String TOMCAT_HTTP11 = "org.apache.coyote.http11.Http11Processor";

    private SendBuffer() {
    }

    /** The coyote response's processor, per coyote response class. */
    private static final ClassValue<Field> HOOK = new ClassValue<>() {
        @Override
        protected Field computeValue(Class<?> coyote) {
            try {
                Field hook = coyote.getDeclaredField("hook");
                hook.setAccessible(true);
                return hook;
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.debug("cannot reach Tomcat's processor from {}: {}", coyote.getName(), e.toString());
                return null;
            }
        }
    };

    /** From an HTTP/1 processor class to its socket wrapper's socket (Tomcat's channel). */
    private record TomcatSocket(Field socketWrapper, Method socket) {
    }

    private static final ClassValue<TomcatSocket> TOMCAT_SOCKET = new ClassValue<>() {
        @Override
        protected TomcatSocket computeValue(Class<?> processor) {
            if (!processor.getName().equals(TOMCAT_HTTP11)) {
                return null;
            }
            try {
                Field wrapper = field(processor, "socketWrapper");
                wrapper.setAccessible(true);
                Method socket = wrapper.getType().getMethod("getSocket");
                return new TomcatSocket(wrapper, socket);
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.debug("cannot reach Tomcat's socket from {}: {}", processor.getName(), e.toString());
                return null;
            }
        }
    };

    /**
     * Caps the send buffer of the connection of this request and response at {@code bytes}. Returns false
     * where it could not (another container, HTTP/2, TLS on Jetty, or the container's inside changed).
     */
    static boolean cap(ServletRequest request, ServletResponse response, int bytes) {
        try {
            NetworkChannel channel = tomcatChannel(response);
            if (channel == null) {
                Object endPoint = ContainerInside.jettyHttp1EndPoint(request);
                channel = endPoint == null ? null : networkChannel(endPoint);
            }
            if (channel == null) {
                return false;
            }
            channel.setOption(StandardSocketOptions.SO_SNDBUF, bytes);
            return true;
        } catch (ReflectiveOperationException | RuntimeException | IOException e) {
            log.debug("cannot cap the socket send buffer: {}", e.toString());
            return false;
        }
    }

    private static NetworkChannel tomcatChannel(ServletResponse response) throws ReflectiveOperationException {
        Object coyote = ContainerInside.tomcatCoyoteResponse(response);
        Field hook = coyote == null ? null : HOOK.get(coyote.getClass());
        Object processor = hook == null ? null : hook.get(coyote);
        TomcatSocket socket = processor == null ? null : TOMCAT_SOCKET.get(processor.getClass());
        if (socket == null) {
            return null;
        }
        Object wrapper = socket.socketWrapper().get(processor);
        Object channel = wrapper == null ? null : socket.socket().invoke(wrapper);
        return channel == null ? null : networkChannel(channel);
    }

    /** The channel accessor of a Tomcat channel or Jetty end point class ({@code getIOChannel}, {@code getChannel}). */
    private static final ClassValue<Method> CHANNEL = new ClassValue<>() {
        @Override
        protected Method computeValue(Class<?> type) {
            for (String name : new String[] {"getIOChannel", "getChannel"}) {
                try {
                    Method m = type.getMethod(name);
                    if (NetworkChannel.class.isAssignableFrom(m.getReturnType())
                            || m.getReturnType().isAssignableFrom(SocketChannel.class)) {
                        return m;
                    }
                } catch (NoSuchMethodException | RuntimeException e) {
                    // Not this one.
                }
            }
            return null;
        }
    };

    /** The network channel behind a Tomcat channel or a Jetty end point; null where there is none. */
    private static NetworkChannel networkChannel(Object owner) throws ReflectiveOperationException {
        Method m = CHANNEL.get(owner.getClass());
        Object channel = m == null ? null : m.invoke(owner);
        return channel instanceof NetworkChannel network ? network : null;
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                return c.getDeclaredField(name);
            } catch (NoSuchFieldException e) {
                // Look in the superclass.
            }
        }
        throw new NoSuchFieldException(type.getName() + "." + name);
    }
}
