package dev.handoff.spring;

import dev.handoff.registry.ClusterStats;
import dev.handoff.registry.StreamRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
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
 *
 * <p>The indicator is UP while the registry accepts streams, OUT_OF_SERVICE once it shuts down, and, with a
 * cluster, DOWN while the cluster is disconnected (streams stay open meanwhile; keep it out of a liveness probe,
 * which Spring Boot's own probe groups do); its details are the open streams and the cluster's state.
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

    /** The indicator's status, by its code (the same in both generations' Health classes). */
    static String status(StreamRegistry registry) {
        if (!registry.isAccepting()) {
            return "OUT_OF_SERVICE";
        }
        Optional<ClusterStats> cluster = registry.clusterStats();
        return cluster.isPresent() && !cluster.get().connected() ? "DOWN" : "UP";
    }

    static Map<String, Object> details(StreamRegistry registry) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("openStreams", registry.openStreams());
        registry.clusterStats().ifPresent(c -> details.put("cluster", HandoffEndpoint.clusterDetails(c)));
        return details;
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
    @org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator("handoff")
    static class Boot3Health {

        /** See {@link HandoffActuatorAutoConfiguration}: accepting, the cluster connected; open streams, the cluster. */
        @Bean
        @ConditionalOnMissingBean(name = "handoffHealthIndicator")
        org.springframework.boot.actuate.health.HealthIndicator handoffHealthIndicator(StreamRegistry registry) {
            return () -> org.springframework.boot.actuate.health.Health.status(status(registry)).withDetails(details(registry)).build();
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    @org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator("handoff")
    static class Boot4Health {

        /** See {@link HandoffActuatorAutoConfiguration}: accepting, the cluster connected; open streams, the cluster. */
        @Bean
        @ConditionalOnMissingBean(name = "handoffHealthIndicator")
        org.springframework.boot.health.contributor.HealthIndicator handoffHealthIndicator(StreamRegistry registry) {
            return () -> org.springframework.boot.health.contributor.Health.status(status(registry)).withDetails(details(registry)).build();
        }
    }
}
