package dev.handoff.spring;

import dev.handoff.core.CloseReason;
import dev.handoff.core.Refusal;
import dev.handoff.core.StreamRegistry;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Micrometer meters for the registry, where Micrometer is present; Spring Boot binds them to its meter
 * registry. Names: {@code handoff.streams.open} (gauge), {@code handoff.streams.opened},
 * {@code handoff.streams.closed} (tag {@code reason}), {@code handoff.streams.refused} (tag {@code cause}),
 * {@code handoff.events.published}, {@code handoff.events.delivered}, {@code handoff.events.dropped},
 * {@code handoff.bytes.written} (counters).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(MeterBinder.class)
class HandoffMetricsConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "handoffMeters")
    MeterBinder handoffMeters(StreamRegistry registry) {
        return meters -> {
            Gauge.builder("handoff.streams.open", registry, StreamRegistry::openStreams)
                    .description("Streams open now").register(meters);
            FunctionCounter.builder("handoff.streams.opened", registry, r -> r.stats().streamsOpened())
                    .description("Streams opened").register(meters);
            for (CloseReason reason : CloseReason.values()) {
                FunctionCounter.builder("handoff.streams.closed", registry,
                                r -> r.stats().closes().getOrDefault(reason, 0L))
                        .tag("reason", reason.name()).description("Streams ended, by reason").register(meters);
            }
            for (Refusal cause : Refusal.values()) {
                FunctionCounter.builder("handoff.streams.refused", registry,
                                r -> r.stats().refusals().getOrDefault(cause, 0L))
                        .tag("cause", cause.name()).description("Streams refused, by cause").register(meters);
            }
            FunctionCounter.builder("handoff.events.published", registry, r -> r.stats().eventsPublished())
                    .description("Events published").register(meters);
            FunctionCounter.builder("handoff.events.delivered", registry, r -> r.stats().eventsDelivered())
                    .description("Events queued to a stream").register(meters);
            FunctionCounter.builder("handoff.events.dropped", registry, r -> r.stats().eventsDropped())
                    .description("Events not queued: the stream's queue was full or it had ended").register(meters);
            FunctionCounter.builder("handoff.bytes.written", registry, r -> r.stats().bytesWritten())
                    .baseUnit("bytes").description("Bytes the container took from the registry's streams")
                    .register(meters);
        };
    }
}
