package dev.handoff.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.registry.StreamRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** The meters read one registry snapshot per scrape, and keep reading after a garbage collection. */
class HandoffMetricsConfigurationTest {

    @Test
    void aScrapeReadsOneSnapshotForEveryCounter() {
        StreamRegistry registry = StreamRegistry.builder().build();
        try {
            HandoffMetricsConfiguration.RecentStats stats = new HandoffMetricsConfiguration.RecentStats(registry);
            assertThat(stats.get()).as("within one scrape").isSameAs(stats.get());
            registry.publish("t", "x");
            assertThat(stats.get().eventsPublished()).as("fresh for 200 ms").isZero();
        } finally {
            registry.close();
        }
    }

    @Test
    void theCountersSurviveAGarbageCollection() {
        StreamRegistry registry = StreamRegistry.builder().build();
        try {
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            new HandoffMetricsConfiguration().handoffMeters(registry).bindTo(meters);
            registry.publish("t", "x");
            System.gc(); // A function meter whose state object was collected reads NaN.
            assertThat(meters.get("handoff.events.published").functionCounter().count()).isNotNaN();
        } finally {
            registry.close();
        }
    }
}
