package dev.handoff.registry;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Decides whether a request may subscribe to a topic. Called on the request thread, before the handoff, so
 * the request's security context (for example Spring Security's) is available; a refusal is answered
 * with 403 before anything is committed.
 *
 * <p>Subscriptions the application adds later with {@link StreamRegistry#subscribe(SseStream, String)}
 * are its own decision and are not checked here.
 */
@FunctionalInterface
public interface TopicAuthorizer {

    /** Lets every request subscribe to every topic. */
    TopicAuthorizer PERMIT_ALL = (request, topic) -> true;

    /** True if {@code request} may receive the events of {@code topic}. */
    boolean permits(HttpServletRequest request, String topic);
}
