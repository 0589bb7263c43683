package dev.handoff.spring;

import dev.handoff.core.Handoff;
import io.micrometer.common.KeyValue;
import io.micrometer.observation.ObservationFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.server.observation.ServerRequestObservationContext;

/**
 * Keeps a stream's life out of Spring's {@code http.server.requests}. Spring's {@code ServerHttpObservationFilter}
 * stops a request's observation when its async cycle completes, so a handed-off SSE request that lives twenty
 * minutes would be one twenty-minute request in the application's latency percentiles, and one active request
 * all that time. Here a handed-off request's observation stops when the request thread returns from the handoff:
 * {@code http.server.requests} records the time to open the stream (status 200, as before), and every request of
 * the application carries the tag {@code handoff}: {@code stream} for those, {@code none} for the rest (every
 * request, so that the meter keeps one set of tag keys, as Prometheus requires).
 *
 * <p>How: Spring's filter stops the observation at once unless {@code isAsyncStarted()}. A filter just before it
 * gives it a request that says "not async" once the request was handed off; a filter just after it passes the
 * container's request on, so that nothing else sees the difference, and marks the wrapper when the chain returns
 * from a handoff. Spring's filter is at {@code HIGHEST_PRECEDENCE + 1} in Spring Boot; where an application moves
 * it, the two filters no longer bracket it and requests are recorded as before.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = {"org.springframework.web.filter.ServerHttpObservationFilter",
        "io.micrometer.observation.ObservationFilter"})
@ConditionalOnProperty(prefix = "handoff.observation", name = "enabled", matchIfMissing = true)
class HandoffObservationConfiguration {

    /** The low-cardinality key every {@code http.server.requests} observation gets. */
    static final String TAG = "handoff";

    private static final String WRAPPER = HandoffObservationConfiguration.class.getName() + ".request";

    @Bean
    @ConditionalOnMissingBean(name = "handoffObservationBefore")
    FilterRegistrationBean<Filter> handoffObservationBefore() {
        return registration("handoffObservationBefore", Ordered.HIGHEST_PRECEDENCE, (request, response, chain) -> {
            if (request instanceof HttpServletRequest http && request.getDispatcherType() == DispatcherType.REQUEST) {
                StreamedRequest wrapper = new StreamedRequest(http);
                request.setAttribute(WRAPPER, wrapper);
                chain.doFilter(wrapper, response);
            } else {
                chain.doFilter(request, response);
            }
        });
    }

    @Bean
    @ConditionalOnMissingBean(name = "handoffObservationAfter")
    FilterRegistrationBean<Filter> handoffObservationAfter() {
        return registration("handoffObservationAfter", Ordered.HIGHEST_PRECEDENCE + 2, (request, response, chain) -> {
            if (!(request.getAttribute(WRAPPER) instanceof StreamedRequest wrapper) || wrapper != request) {
                chain.doFilter(request, response);
                return;
            }
            ServletRequest inside = wrapper.getRequest();
            try {
                chain.doFilter(inside, response);
            } finally {
                wrapper.streamed = inside.isAsyncStarted() && handedOff(inside);
            }
        });
    }

    /** {@code handoff=stream} on a handed-off request's observation, {@code handoff=none} on every other request's. */
    @Bean
    @ConditionalOnMissingBean(name = "handoffObservationTag")
    ObservationFilter handoffObservationTag() {
        return context -> {
            if (context instanceof ServerRequestObservationContext server) {
                boolean streamed = server.getCarrier() != null && handedOff(server.getCarrier());
                server.addLowCardinalityKeyValue(KeyValue.of(TAG, streamed ? "stream" : "none"));
            }
            return context;
        };
    }

    private static FilterRegistrationBean<Filter> registration(String name, int order, Filter filter) {
        FilterRegistrationBean<Filter> registration = new FilterRegistrationBean<>(filter);
        registration.setName(name);
        registration.setOrder(order);
        registration.setAsyncSupported(true);
        registration.setDispatcherTypes(DispatcherType.REQUEST);
        return registration;
    }

    /** Whether the request was handed off through Handoff (a stream opened on it). */
    private static boolean handedOff(ServletRequest request) {
        return Handoff.isAvailable(request) && Handoff.from(request).isHandedOff();
    }

    /** The request Spring's observation filter sees: not async once the chain returned from a handoff. */
    static final class StreamedRequest extends HttpServletRequestWrapper {
        volatile boolean streamed;

        StreamedRequest(HttpServletRequest request) {
            super(request);
        }

        @Override
        public boolean isAsyncStarted() {
            return !streamed && super.isAsyncStarted();
        }
    }
}
