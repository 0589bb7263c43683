package dev.handoff.spring;

import dev.handoff.core.CloseReason;
import dev.handoff.core.CloseStatus;
import dev.handoff.registry.ClusterStats;
import dev.handoff.registry.Refusal;
import dev.handoff.registry.RegistryListener;
import dev.handoff.registry.RegistryStats;
import dev.handoff.registry.StreamRegistry;
import dev.handoff.registry.Subscriber;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Micrometer meters for the registry, where Micrometer is present; Spring Boot binds them to its meter
 * registry. Names: {@code handoff.streams.open} (gauge), {@code handoff.streams.opened},
 * {@code handoff.streams.closed} (tag {@code reason}), {@code handoff.streams.refused} (tag {@code cause}),
 * {@code handoff.events.published}, {@code handoff.events.delivered}, {@code handoff.events.dropped},
 * {@code handoff.bytes.written}, {@code handoff.events.caught.up} (counters), {@code handoff.streams.queued} and
 * {@code .queued.max} (gauges, bytes), {@code handoff.streams.duration} (long task timer), {@code handoff.events.lag}
 * (timer); with a cluster, {@code handoff.cluster.connected} (gauge),
 * {@code handoff.cluster.reconnects}, {@code .resets}, {@code .publish.failures}, {@code .local.deliveries},
 * {@code .resumes} (counters) and {@code handoff.cluster.lag} (timer).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(MeterBinder.class)
class HandoffMetricsConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "handoffMeters")
    MeterBinder handoffMeters(StreamRegistry registry) {
        // Held by the binder (a bean): Micrometer keeps a function meter's state object only weakly.
        RecentStats stats = new RecentStats(registry);
        return meters -> {
            Gauge.builder("handoff.streams.open", registry, StreamRegistry::openStreams)
                    .description("Streams open now").register(meters);
            FunctionCounter.builder("handoff.streams.opened", stats, s -> s.get().streamsOpened())
                    .description("Streams opened").register(meters);
            for (CloseReason reason : CloseReason.values()) {
                FunctionCounter.builder("handoff.streams.closed", stats,
                                s -> s.get().closes().getOrDefault(reason, 0L))
                        .tag("reason", reason.name()).description("Streams ended, by reason").register(meters);
            }
            for (Refusal cause : Refusal.values()) {
                FunctionCounter.builder("handoff.streams.refused", stats,
                                s -> s.get().refusals().getOrDefault(cause, 0L))
                        .tag("cause", cause.name()).description("Streams refused, by cause").register(meters);
            }
            FunctionCounter.builder("handoff.events.published", stats, s -> s.get().eventsPublished())
                    .description("Events published").register(meters);
            FunctionCounter.builder("handoff.events.delivered", stats, s -> s.get().eventsDelivered())
                    .description("Events queued to a stream").register(meters);
            FunctionCounter.builder("handoff.events.dropped", stats, s -> s.get().eventsDropped())
                    .description("Events not queued: the stream's queue was full or it had ended").register(meters);
            FunctionCounter.builder("handoff.bytes.written", stats, s -> s.get().bytesWritten())
                    .baseUnit("bytes").description("Bytes the container took from the registry's streams")
                    .register(meters);
            FunctionCounter.builder("handoff.events.caught.up", stats, s -> s.get().eventsCaughtUp())
                    .description("Events queued to a stream from a replay ring by a catch-up (also in delivered)")
                    .register(meters);
            Gauge.builder("handoff.streams.queued", stats, s -> s.get().queuedBytes()).baseUnit("bytes")
                    .description("Bytes queued in the open streams, not yet taken by the container").register(meters);
            Gauge.builder("handoff.streams.queued.max", stats, s -> s.get().maxQueuedBytes()).baseUnit("bytes")
                    .description("The most bytes one open stream has queued").register(meters);
            if (registry.clusterStats().isPresent()) {
                bindCluster(registry, meters);
            }
        };
    }

    private static void bindCluster(StreamRegistry registry, MeterRegistry meters) {
        Gauge.builder("handoff.cluster.connected", registry, r -> cluster(r).connected() ? 1 : 0)
                .description("1 while the cluster can publish and is reading the other instances' events").register(meters);
        FunctionCounter.builder("handoff.cluster.reconnects", registry, r -> cluster(r).reconnects())
                .description("Times the cluster lost its backend and got it back").register(meters);
        FunctionCounter.builder("handoff.cluster.resets", registry, r -> cluster(r).resets())
                .description("Times the cluster could not vouch for what this instance was handed (every topic reset)")
                .register(meters);
        FunctionCounter.builder("handoff.cluster.publish.failures", registry, r -> cluster(r).publishFailures())
                .description("Publishes the cluster did not take").register(meters);
        FunctionCounter.builder("handoff.cluster.local.deliveries", registry, r -> cluster(r).localDeliveries())
                .description("Publishes the cluster refused that were delivered on this instance only").register(meters);
        FunctionCounter.builder("handoff.cluster.resumes", registry, r -> cluster(r).resumes())
                .description("Streams that resumed from the cluster's log").register(meters);
    }

    private static ClusterStats cluster(StreamRegistry registry) {
        return registry.clusterStats().orElseThrow();
    }

    /**
     * {@code handoff.streams.duration}, a long task timer of the registry's open streams (how many, how long the
     * oldest has been open, their ages as a distribution with Spring Boot's {@code management.metrics.distribution.*}
     * settings), and {@code handoff.events.lag}, a timer of how long after its publish an event was queued to the
     * live streams (once per event and fan-out stripe; the container writes it next). A registry listener that is
     * also a meter binder.
     */
    @Bean
    @ConditionalOnMissingBean(name = "handoffStreamMeters")
    StreamMeters handoffStreamMeters() {
        return new StreamMeters();
    }

    static final class StreamMeters implements RegistryListener, MeterBinder {
        private final Map<Long, LongTaskTimer.Sample> open = new ConcurrentHashMap<>();
        private volatile LongTaskTimer duration;
        private volatile Timer lag;

        @Override
        public void bindTo(MeterRegistry meters) {
            duration = LongTaskTimer.builder("handoff.streams.duration")
                    .description("The registry's open streams and how long they have been open").register(meters);
            lag = Timer.builder("handoff.events.lag")
                    .description("From an event's publish to its being queued to the live streams").register(meters);
        }

        @Override
        public void onOpen(Subscriber subscriber) {
            LongTaskTimer t = duration;
            if (t != null) {
                open.put(subscriber.id(), t.start());
            }
        }

        @Override
        public void onClose(Subscriber subscriber, CloseStatus status) {
            LongTaskTimer.Sample sample = open.remove(subscriber.id());
            if (sample != null) {
                sample.stop();
            }
        }

        @Override
        public void onFanOut(Duration delay) {
            Timer t = lag;
            if (t != null) {
                t.record(delay);
            }
        }
    }

    /**
     * {@code handoff.cluster.lag}: for each event that arrives through the cluster, the time from the cluster
     * taking it to this instance delivering it (a timer; percentiles with Spring Boot's
     * {@code management.metrics.distribution.*} settings). A registry listener that is also a meter binder.
     */
    @Bean
    @ConditionalOnProperty(prefix = "handoff.cluster", name = "enabled", havingValue = "true")
    @ConditionalOnMissingBean(name = "handoffClusterLag")
    ClusterLag handoffClusterLag() {
        return new ClusterLag();
    }

    static final class ClusterLag implements RegistryListener, MeterBinder {
        private volatile Timer timer;

        @Override
        public void bindTo(MeterRegistry meters) {
            timer = Timer.builder("handoff.cluster.lag")
                    .description("From the cluster taking an event to this instance delivering it").register(meters);
        }

        @Override
        public void onClusterDelivery(String topic, Duration lag) {
            Timer t = timer;
            if (t != null) {
                t.record(lag);
            }
        }
    }

    /**
     * One {@link StreamRegistry#stats()} (a walk of the topics under the registry's lock) for all the meters
     * read within {@value #FRESH_MILLIS} ms: a scrape reads them back to back, so it costs one walk, not one
     * per meter.
     */
    static final class RecentStats {
        static final long FRESH_MILLIS = 200;
        private final StreamRegistry registry;
        private volatile RegistryStats last;
        private volatile long takenNanos;

        RecentStats(StreamRegistry registry) {
            this.registry = registry;
        }

        RegistryStats get() {
            long now = System.nanoTime();
            RegistryStats s = last;
            if (s == null || now - takenNanos > FRESH_MILLIS * 1_000_000) {
                synchronized (this) {
                    s = last;
                    if (s == null || now - takenNanos > FRESH_MILLIS * 1_000_000) {
                        s = registry.stats();
                        last = s;
                        takenNanos = System.nanoTime();
                    }
                }
            }
            return s;
        }
    }
}
