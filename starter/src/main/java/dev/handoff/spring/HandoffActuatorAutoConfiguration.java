package dev.handoff.spring;

import dev.handoff.registry.StreamRegistry;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * Actuator's view of Handoff, where Actuator is present and the registry exists: the {@code handoff} endpoint
 * (built only when it is enabled and exposed) and the {@code handoff} health indicator. Health contributors
 * moved in Spring Boot 4; one nested configuration per generation applies, by class.
 */
@AutoConfiguration(after = HandoffAutoConfiguration.class)
@ConditionalOnClass(name = {"org.springframework.boot.actuate.endpoint.annotation.Endpoint",
        "org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint"})
@ConditionalOnBean(StreamRegistry.class)
@Import({HandoffActuatorAutoConfiguration.Boot3Health.class, HandoffActuatorAutoConfiguration.Boot4Health.class})
public final class HandoffActuatorAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnAvailableEndpoint(endpoint = HandoffEndpoint.class)
    HandoffEndpoint handoffEndpoint(StreamRegistry registry) {
        return new HandoffEndpoint(registry);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
    @org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator("handoff")
    static class Boot3Health {

        /** UP while the registry accepts streams, OUT_OF_SERVICE once it shuts down; open streams as a detail. */
        @Bean
        @ConditionalOnMissingBean(name = "handoffHealthIndicator")
        org.springframework.boot.actuate.health.HealthIndicator handoffHealthIndicator(StreamRegistry registry) {
            return () -> (registry.isAccepting() ? org.springframework.boot.actuate.health.Health.up()
                    : org.springframework.boot.actuate.health.Health.outOfService())
                    .withDetail("openStreams", registry.openStreams()).build();
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    @org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator("handoff")
    static class Boot4Health {

        /** UP while the registry accepts streams, OUT_OF_SERVICE once it shuts down; open streams as a detail. */
        @Bean
        @ConditionalOnMissingBean(name = "handoffHealthIndicator")
        org.springframework.boot.health.contributor.HealthIndicator handoffHealthIndicator(StreamRegistry registry) {
            return () -> (registry.isAccepting() ? org.springframework.boot.health.contributor.Health.up()
                    : org.springframework.boot.health.contributor.Health.outOfService())
                    .withDetail("openStreams", registry.openStreams()).build();
        }
    }
}
