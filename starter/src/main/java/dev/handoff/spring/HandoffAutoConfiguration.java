package dev.handoff.spring;

import dev.handoff.core.Handoff;
import dev.handoff.core.HandoffFilter;
import dev.handoff.core.SseEvent;
import dev.handoff.core.StreamOptions;
import dev.handoff.core.StreamScheduler;
import dev.handoff.proxy.StreamingProxy;
import dev.handoff.registry.RegistryListener;
import dev.handoff.registry.StreamRegistry;
import dev.handoff.registry.TopicAuthorizer;
import jakarta.servlet.DispatcherType;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.PropertyMapper;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.util.ClassUtils;
import org.springframework.web.method.support.HandlerMethodReturnValueHandler;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;

/**
 * Registers Handoff in a servlet Spring Boot application: {@link HandoffFilter}, the scheduler pool, the
 * {@link StreamRegistry}, {@link HandoffStreams}, and the return value handler that lets a controller
 * method return a stream. Every bean backs off when the application declares its own; a
 * {@link StreamRegistryCustomizer} adjusts the registry. Metrics are added where Micrometer is present;
 * the actuator endpoint and health indicator are {@link HandoffActuatorAutoConfiguration}'s.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration",
        "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration",
        "org.springframework.boot.jackson2.autoconfigure.Jackson2AutoConfiguration"})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass({Handoff.class, RequestMappingHandlerAdapter.class})
@EnableConfigurationProperties(HandoffProperties.class)
@Import({HandoffMetricsConfiguration.class, HandoffObservationConfiguration.class})
public final class HandoffAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    StreamScheduler handoffScheduler(HandoffProperties properties) {
        return StreamScheduler.create(properties.getScheduler().getThreads(), properties.getScheduler().getTick());
    }

    @Bean
    @ConditionalOnMissingBean(name = "handoffFilter")
    FilterRegistrationBean<HandoffFilter> handoffFilter(HandoffProperties properties, StreamScheduler scheduler) {
        FilterRegistrationBean<HandoffFilter> registration = new FilterRegistrationBean<>(
                new HandoffFilter(streamOptions(properties, scheduler)));
        registration.setName("handoffFilter");
        registration.setAsyncSupported(true);
        registration.setOrder(properties.getFilter().getOrder());
        registration.setUrlPatterns(List.of(properties.getFilter().getUrlPatterns()));
        registration.setDispatcherTypes(DispatcherType.REQUEST);
        return registration;
    }

    static StreamOptions streamOptions(HandoffProperties p, StreamScheduler scheduler) {
        return StreamOptions.defaults()
                .withHeartbeat(p.getHeartbeat())
                .withMaxQueuedBytes(Math.toIntExact(p.getMaxQueuedBytes().toBytes()))
                .withOverflow(p.getOverflow())
                .withIdleTimeout(p.getIdleTimeout())
                .withWriteTimeout(p.getWriteTimeout())
                .withMaxLastEventIdLength(p.getMaxLastEventIdLength())
                .withSocketSendBuffer(Math.toIntExact(p.getSocketSendBuffer().toBytes()))
                .withMinBodyRate(p.getBody().getMinRate().toBytes(), p.getBody().getMinRateWindow())
                .withScheduler(scheduler);
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    StreamRegistry handoffRegistry(HandoffProperties properties, StreamScheduler scheduler,
            ObjectProvider<StreamRegistryCustomizer> customizers, ObjectProvider<RegistryListener> listeners,
            ObjectProvider<TopicAuthorizer> authorizer) {
        HandoffProperties.Limits limits = properties.getLimits();
        StreamRegistry.Builder builder = StreamRegistry.builder()
                .scheduler(scheduler)
                .replay(properties.getReplay().getEvents(), properties.getReplay().getMaxAge())
                .retryAfter(limits.getRetryAfter())
                .shutdown(properties.getShutdown().getGracePeriod(), finalEvent(properties))
                .shutdownRetryJitter(properties.getShutdown().getReconnectJitter());
        // Unset limits stay the builder's. Boot 4 skips null sources by itself; Boot 3.5 needs the predicate.
        PropertyMapper map = PropertyMapper.get();
        map.from(limits.getMaxStreams()).when(Objects::nonNull).to(builder::maxStreams);
        map.from(limits.getMaxStreamsPerTopic()).when(Objects::nonNull).to(builder::maxStreamsPerTopic);
        map.from(limits.getMaxStreamsPerClient()).when(Objects::nonNull).to(builder::maxStreamsPerClient);
        authorizer.ifUnique(builder::authorizer);
        listeners.orderedStream().forEach(builder::listener);
        customizers.orderedStream().forEach(c -> c.customize(builder));
        return builder.build();
    }

    /** The event sent to every stream when the application stops: tells clients when to come back. */
    static SseEvent finalEvent(HandoffProperties properties) {
        var delay = properties.getShutdown().getReconnectDelay();
        if (delay.isZero()) {
            return null;
        }
        return SseEvent.builder().event("shutdown").data("the server is restarting").retry(delay).build();
    }

    /** The proxy; Spring closes it with the context (stopping a Jetty client it created). */
    @Bean
    @ConditionalOnMissingBean
    StreamingProxy handoffProxy(HandoffProperties properties, ApplicationContext context) {
        HandoffProperties.Proxy p = properties.getProxy();
        StreamingProxy.Builder builder = StreamingProxy.builder().connectTimeout(p.getConnectTimeout())
                .responseTimeout(p.getResponseTimeout()).idleTimeout(p.getIdleTimeout())
                .maxConcurrent(p.getMaxConcurrent()).maxRequestBytes(p.getMaxRequestSize().toBytes())
                .retryAfter(properties.getLimits().getRetryAfter());
        boolean jettyPresent = ClassUtils.isPresent(JETTY_CLIENT, context.getClassLoader());
        if (p.getClient() == HandoffProperties.Client.JETTY && !jettyPresent) {
            throw new IllegalStateException("handoff.proxy.client=jetty needs Jetty's HttpClient on the class "
                    + "path: add org.eclipse.jetty:jetty-client");
        }
        if (p.getClient() == HandoffProperties.Client.JETTY
                || p.getClient() == HandoffProperties.Client.AUTO && jettyPresent) {
            builder.jettyClient();
        }
        return builder.build();
    }

    private static final String JETTY_CLIENT = "org.eclipse.jetty.client.HttpClient";

    @Bean
    @ConditionalOnMissingBean
    EventDataEncoder handoffEventDataEncoder(ListableBeanFactory beans) {
        return JsonEncoders.fromContext(beans, HandoffAutoConfiguration.class.getClassLoader());
    }

    @Bean
    @ConditionalOnMissingBean
    HandoffStreams handoffStreams(StreamRegistry registry, EventDataEncoder encoder, HandoffProperties properties) {
        return new HandoffStreams(registry, encoder, Math.toIntExact(properties.getMaxQueuedBytes().toBytes()));
    }

    @Bean
    @ConditionalOnMissingBean
    HandoffLifecycle handoffLifecycle(StreamRegistry registry, HandoffProperties properties,
            ObjectProvider<FilterRegistrationBean<HandoffFilter>> filter) {
        return new HandoffLifecycle(registry, filter.getIfAvailable(), properties.getShutdown().getGracePeriod(),
                finalEvent(properties));
    }

    /**
     * Puts the stream return value handler before Spring MVC's own: on a {@code @RestController} the
     * {@code @ResponseBody} handler would otherwise claim a stream and try to serialize it.
     */
    @Bean
    @ConditionalOnMissingBean(name = "handoffReturnValueHandlerInstaller")
    static SmartInitializingSingleton handoffReturnValueHandlerInstaller(ObjectProvider<RequestMappingHandlerAdapter> adapters,
            ObjectProvider<StreamRegistry> registry) {
        return () -> adapters.orderedStream().forEach(adapter -> {
            List<HandlerMethodReturnValueHandler> handlers = new ArrayList<>();
            handlers.add(new StreamReturnValueHandler(registry.getObject()));
            if (adapter.getReturnValueHandlers() != null) {
                adapter.getReturnValueHandlers().stream()
                        .filter(h -> !(h instanceof StreamReturnValueHandler))
                        .forEach(handlers::add);
            }
            adapter.setReturnValueHandlers(handlers);
        });
    }
}
