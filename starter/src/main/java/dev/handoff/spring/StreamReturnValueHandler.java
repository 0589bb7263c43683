package dev.handoff.spring;

import dev.handoff.core.ByteStream;
import dev.handoff.core.CloseReason;
import dev.handoff.core.Handoff;
import dev.handoff.core.SseStream;
import dev.handoff.core.StreamHandle;
import dev.handoff.registry.StreamRegistry;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.core.MethodParameter;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.context.request.async.AsyncWebRequest;
import org.springframework.web.context.request.async.WebAsyncManager;
import org.springframework.web.context.request.async.WebAsyncUtils;
import org.springframework.web.filter.ShallowEtagHeaderFilter;
import org.springframework.web.method.support.HandlerMethodReturnValueHandler;
import org.springframework.web.method.support.ModelAndViewContainer;

/**
 * Hands off the request of a controller method that returned a stream from {@link HandoffStreams}, and
 * attaches that stream to the connection.
 *
 * <p>Async processing is started through Spring's {@link WebAsyncManager}, so that Spring's filters,
 * interceptors and {@code DispatcherServlet} see the request as async (they skip their end-of-request
 * work, as for {@code DeferredResult}); it is never dispatched back, the stream completes the response.
 * Content caching by {@link ShallowEtagHeaderFilter} is turned off for the request, as Spring does for
 * its own emitters.
 */
final class StreamReturnValueHandler implements HandlerMethodReturnValueHandler {

    private final StreamRegistry registry;

    StreamReturnValueHandler(StreamRegistry registry) {
        this.registry = registry;
    }

    @Override
    public boolean supportsReturnType(MethodParameter returnType) {
        return StreamHandle.class.isAssignableFrom(returnType.getParameterType());
    }

    @Override
    public void handleReturnValue(Object value, MethodParameter returnType, ModelAndViewContainer mavContainer,
            NativeWebRequest webRequest) {
        mavContainer.setRequestHandled(true);
        StreamHandle unattached = value instanceof SpringEventStream events ? events.stream
                : value instanceof StreamHandle stream && Handoff.isUnattached(stream) ? stream : null;
        if (unattached == null) {
            // null, or a stream the method opened itself with Handoff.from(request): nothing left to do.
            return;
        }
        HttpServletRequest request = webRequest.getNativeRequest(HttpServletRequest.class);
        HttpServletResponse response = webRequest.getNativeResponse(HttpServletResponse.class);
        if (request == null || response == null) {
            throw new IllegalStateException("a Handoff stream needs a servlet request and response");
        }
        Handoff handoff = Handoff.isAvailable(request) ? Handoff.from(request) : Handoff.of(request, response);
        handoff.startAsyncWith(() -> startAsync(webRequest, request, response));
        try {
            if (value instanceof SpringEventStream events) {
                if (events.topics.isEmpty()) {
                    handoff.attach(events.stream);
                } else {
                    registry.subscribe(handoff, events.stream, events.topics.toArray(String[]::new));
                }
            } else if (unattached instanceof ByteStream bytes) {
                handoff.attach(bytes);
            } else {
                handoff.attach((SseStream) unattached);
            }
        } catch (RuntimeException e) {
            // The request was not handed off onto it: the stream ends without ever opening. One another request
            // took already (returned twice) is that request's, and left alone.
            if (Handoff.isUnattached(unattached)) {
                unattached.abort(CloseReason.ERROR, "the stream never opened: " + e);
            }
            throw e;
        }
    }

    /** Starts async processing the way Spring MVC does, so that its components know. */
    static AsyncContext startAsync(NativeWebRequest webRequest, HttpServletRequest request,
            HttpServletResponse response) {
        ShallowEtagHeaderFilter.disableContentCaching(request);
        WebAsyncManager manager = WebAsyncUtils.getAsyncManager(webRequest);
        AsyncWebRequest asyncRequest = WebAsyncUtils.createAsyncWebRequest(request, response);
        asyncRequest.setTimeout(-1L); // Handoff's own time-outs apply.
        manager.setAsyncWebRequest(asyncRequest);
        asyncRequest.startAsync();
        return request.getAsyncContext();
    }
}
