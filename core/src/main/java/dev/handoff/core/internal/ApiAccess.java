package dev.handoff.core.internal;

import dev.handoff.core.Handoff;
import dev.handoff.core.ResponseHead;
import dev.handoff.core.SseEvent;
import dev.handoff.core.SseStream;
import dev.handoff.core.StreamScheduler;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.function.Consumer;

/**
 * The members of the public API's classes that the engine, the registry and the proxy use but applications
 * must not: the one door from {@code dev.handoff.core.internal}, {@code dev.handoff.registry} and
 * {@code dev.handoff.proxy} into {@code dev.handoff.core}'s package-private state (the JDK's
 * {@code SharedSecrets} is the model). {@code dev.handoff.core} installs its implementation once, when
 * {@link Handoff} is initialized; nothing else may.
 */
public final class ApiAccess {

    /** Every member the other packages reach; each is package-private in its own class. */
    public interface Api {

        /** The request the handoff was made for. */
        HttpServletRequest request(Handoff handoff);

        /** Its response, for refusals and errors before anything was committed. */
        HttpServletResponse response(Handoff handoff);

        /** Starts async processing without committing anything (the proxy answers later, from its client). */
        void beginAsync(Handoff handoff);

        /** Commits the status and headers set on the response with no body, and ends the exchange. */
        void completeWithoutBody(Handoff handoff);

        /**
         * Partial-mode SSE for the registry, onto a new stream or onto {@code unattached} (from
         * {@code Handoff.unattachedSse}, or null): {@code beforeCommit} runs once the stream exists and before
         * its head is committed, so that the client sees the response start only once it is subscribed.
         */
        DefaultSseStream openSse(Handoff handoff, SseStream unattached, Consumer<DefaultSseStream> beforeCommit);

        /** A length known before the body streams (a proxied backend's). */
        ResponseHead contentLength(ResponseHead head, long length);

        /** The event's encoded frame; shared by every stream it goes to, never to be modified. */
        byte[] frame(SseEvent event);

        /** Puts {@code timed} on the scheduler's sweep until {@link #unregister}. */
        void register(StreamScheduler scheduler, Timed timed);

        void unregister(StreamScheduler scheduler, Timed timed);
    }

    private static volatile Api installed;

    private ApiAccess() {
    }

    /** Called once, by {@code dev.handoff.core} itself. */
    public static void install(Api api) {
        if (!api.getClass().getPackageName().equals("dev.handoff.core")) {
            throw new IllegalArgumentException("only dev.handoff.core installs its access: " + api.getClass());
        }
        synchronized (ApiAccess.class) {
            if (installed != null) {
                throw new IllegalStateException("dev.handoff.core's access is installed once: " + installed);
            }
            installed = api;
        }
    }

    public static Api api() {
        return Holder.API;
    }

    /** Read once, then a constant the JIT folds. */
    private static final class Holder {
        static final Api API = load();

        private static Api load() {
            if (installed == null) {
                try {
                    Class.forName(Handoff.class.getName(), true, Handoff.class.getClassLoader());
                } catch (ClassNotFoundException e) {
                    throw new IllegalStateException(e);
                }
            }
            Api api = installed;
            if (api == null) {
                throw new IllegalStateException("dev.handoff.core did not install its access");
            }
            return api;
        }
    }
}
