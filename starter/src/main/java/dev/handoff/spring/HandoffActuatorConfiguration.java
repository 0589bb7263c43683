package dev.handoff.spring;

import dev.handoff.core.StreamRegistry;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * The actuator endpoint and a health indicator, where Actuator is present. Health contributors moved in
 * Spring Boot 4; one nested configuration per generation applies, by class.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
@Import({HandoffActuatorConfiguration.Boot3Health.class, HandoffActuatorConfiguration.Boot4Health.class})
class HandoffActuatorConfiguration {

    @Bean
    @ConditionalOnMissingBean
    HandoffEndpoint handoffEndpoint(StreamRegistry registry) {
        return new HandoffEndpoint(registry);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
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
