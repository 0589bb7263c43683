package dev.handoff.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.core.HandoffFilter;
import dev.handoff.core.OverflowPolicy;
import dev.handoff.core.StreamScheduler;
import dev.handoff.proxy.StreamingProxy;
import dev.handoff.registry.RegistryListener;
import dev.handoff.registry.StreamRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** What the auto-configuration registers, how properties bind, and that the application's beans win. */
class HandoffAutoConfigurationTest {

    private final WebApplicationContextRunner web = new WebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(HandoffAutoConfiguration.class,
                    HandoffActuatorAutoConfiguration.class));

    @Test
    void aServletApplicationGetsEveryBeanWithDefaults() {
        web.run(context -> {
            assertThat(context).hasSingleBean(StreamScheduler.class).hasSingleBean(StreamRegistry.class)
                    .hasSingleBean(HandoffStreams.class).hasSingleBean(EventDataEncoder.class)
                    .hasSingleBean(HandoffLifecycle.class).hasSingleBean(StreamingProxy.class)
                    .hasBean("handoffFilter").hasBean("handoffMeters").hasBean("handoffHealthIndicator")
                    // Boot's convention: an endpoint nobody exposed is not built.
                    .doesNotHaveBean(HandoffEndpoint.class);
            FilterRegistrationBean<?> filter = context.getBean("handoffFilter", FilterRegistrationBean.class);
            assertThat(filter.isAsyncSupported()).isTrue();
            assertThat(filter.getUrlPatterns()).containsExactly("/*");
            HandoffFilter handoff = (HandoffFilter) filter.getFilter();
            assertThat(handoff.options().heartbeat()).isEqualTo(Duration.ofSeconds(15));
            assertThat(handoff.options().maxQueuedBytes()).isEqualTo(64 * 1024);
            assertThat(handoff.options().scheduler()).isSameAs(context.getBean(StreamScheduler.class));
            assertThat(context.getBean(StreamScheduler.class).tick()).isEqualTo(Duration.ofSeconds(1));
        });
    }

    @Test
    void theActuatorEndpointIsBuiltOnlyWhenExposedAndTheHealthIndicatorOnlyWhenEnabled() {
        web.withPropertyValues("management.endpoints.web.exposure.include=handoff")
                .run(context -> assertThat(context).hasSingleBean(HandoffEndpoint.class));
        web.withPropertyValues("management.endpoints.web.exposure.include=handoff",
                // Upper case: the bare context runner has no lenient enum conversion (an application accepts "none").
                "management.endpoint.handoff.access=NONE")
                .run(context -> assertThat(context).doesNotHaveBean(HandoffEndpoint.class));
        web.withPropertyValues("management.health.handoff.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean("handoffHealthIndicator")
                        .hasSingleBean(StreamRegistry.class));
    }

    @Test
    void propertiesAreBound() {
        web.withPropertyValues("handoff.heartbeat=5s", "handoff.max-queued-bytes=256KB", "handoff.overflow=drop-oldest",
                "handoff.idle-timeout=2m", "handoff.write-timeout=10s", "handoff.scheduler.threads=3",
                "handoff.scheduler.tick=250ms", "handoff.filter.url-patterns=/events/*", "handoff.filter.order=5",
                "handoff.limits.max-streams=10", "handoff.replay.events=0", "handoff.body.min-rate=2KB",
                "handoff.body.min-rate-window=5s").run(context -> {
                    FilterRegistrationBean<?> filter = context.getBean("handoffFilter", FilterRegistrationBean.class);
                    assertThat(filter.getUrlPatterns()).containsExactly("/events/*");
                    assertThat(filter.getOrder()).isEqualTo(5);
                    var options = ((HandoffFilter) filter.getFilter()).options();
                    assertThat(options.heartbeat()).isEqualTo(Duration.ofSeconds(5));
                    assertThat(options.maxQueuedBytes()).isEqualTo(256 * 1024);
                    assertThat(options.overflow()).isEqualTo(OverflowPolicy.DROP_OLDEST);
                    assertThat(options.idleTimeout()).isEqualTo(Duration.ofMinutes(2));
                    assertThat(options.writeTimeout()).isEqualTo(Duration.ofSeconds(10));
                    assertThat(options.minBodyRate()).isEqualTo(2048);
                    assertThat(options.minBodyRateWindow()).isEqualTo(Duration.ofSeconds(5));
                    assertThat(context.getBean(StreamScheduler.class).tick()).isEqualTo(Duration.ofMillis(250));
                    HandoffProperties properties = context.getBean(HandoffProperties.class);
                    assertThat(properties.getScheduler().getThreads()).isEqualTo(3);
                    assertThat(properties.getLimits().getMaxStreams()).isEqualTo(10);
                    assertThat(properties.getReplay().getEvents()).isZero();
                });
    }

    @Test
    void theApplicationsOwnBeansReplaceEachDefault() {
        web.withUserConfiguration(OwnBeans.class).run(context -> {
            assertThat(context.getBean(StreamScheduler.class)).isSameAs(context.getBean("ownScheduler"));
            assertThat(context.getBean(StreamRegistry.class)).isSameAs(context.getBean("ownRegistry"));
            assertThat(context.getBean(EventDataEncoder.class).encode(Map.of())).isEqualTo("own");
            assertThat(context.getBean("handoffFilter")).isSameAs(context.getBean(OwnBeans.class).filter);
            assertThat(context).hasSingleBean(HandoffStreams.class);
        });
    }

    @Test
    void customizersAndListenersReachTheRegistry() {
        web.withUserConfiguration(Customized.class).run(context -> {
            assertThat(context.getBean(Customized.class).customized).isTrue();
            assertThat(context.getBean(StreamRegistry.class)).isNotNull();
        });
    }

    @Test
    void nothingIsRegisteredOutsideAServletWebApplication() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(HandoffAutoConfiguration.class))
                .run(context -> assertThat(context).doesNotHaveBean(StreamRegistry.class)
                        .doesNotHaveBean(StreamScheduler.class).doesNotHaveBean("handoffFilter"));
        new ReactiveWebApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(HandoffAutoConfiguration.class))
                .run(context -> assertThat(context).doesNotHaveBean(StreamRegistry.class)
                        .doesNotHaveBean(StreamScheduler.class).doesNotHaveBean("handoffFilter"));
    }

    @Test
    void theProxySitsOnJettysClientWhenItIsOnTheClassPathAndOnTheJdksOtherwiseOrAsConfigured() {
        web.run(context -> assertThat(context.getBean(StreamingProxy.class).toString())
                .contains("client=Jetty HttpClient"));
        web.withClassLoader(new FilteredClassLoader("org.eclipse.jetty.client"))
                .run(context -> assertThat(context.getBean(StreamingProxy.class).toString())
                        .contains("client=the JDK HttpClient"));
        web.withPropertyValues("handoff.proxy.client=jdk")
                .run(context -> assertThat(context.getBean(StreamingProxy.class).toString())
                        .contains("client=the JDK HttpClient"));
        web.withClassLoader(new FilteredClassLoader("org.eclipse.jetty.client"))
                .withPropertyValues("handoff.proxy.client=jetty")
                .run(context -> assertThat(context).getFailure().rootCause()
                        .hasMessageContaining("add org.eclipse.jetty:jetty-client"));
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnBeans {
        final FilterRegistrationBean<HandoffFilter> filter = new FilterRegistrationBean<>(new HandoffFilter());

        @Bean(destroyMethod = "close")
        StreamScheduler ownScheduler() {
            return StreamScheduler.create(1, Duration.ofSeconds(1));
        }

        @Bean(destroyMethod = "close")
        StreamRegistry ownRegistry(StreamScheduler ownScheduler) {
            return StreamRegistry.builder().scheduler(ownScheduler).build();
        }

        @Bean
        EventDataEncoder ownEncoder() {
            return data -> "own";
        }

        @Bean
        FilterRegistrationBean<HandoffFilter> handoffFilter() {
            return filter;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Customized {
        boolean customized;

        @Bean
        StreamRegistryCustomizer customizer() {
            return builder -> {
                customized = true;
                builder.maxStreamsPerClient(3);
            };
        }

        @Bean
        RegistryListener listener() {
            return new RegistryListener() {
            };
        }
    }
}
