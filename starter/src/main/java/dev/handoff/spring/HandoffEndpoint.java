package dev.handoff.spring;

import dev.handoff.registry.RegistryStats;
import dev.handoff.registry.StreamRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;

/** The actuator endpoint {@code handoff}: topics with their subscriber counts, and the registry's counters. */
@Endpoint(id = "handoff")
public class HandoffEndpoint {

    private final StreamRegistry registry;

    public HandoffEndpoint(StreamRegistry registry) {
        this.registry = registry;
    }

    @ReadOperation
    public Map<String, Object> handoff() {
        RegistryStats s = registry.stats();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("accepting", registry.isAccepting());
        out.put("openStreams", s.openStreams());
        out.put("topics", new TreeMap<>(s.subscribersByTopic()));
        out.put("retainedEvents", s.retainedEvents());
        out.put("streamsOpened", s.streamsOpened());
        out.put("eventsPublished", s.eventsPublished());
        out.put("eventsDelivered", s.eventsDelivered());
        out.put("eventsDropped", s.eventsDropped());
        out.put("bytesWritten", s.bytesWritten());
        out.put("closes", new TreeMap<>(s.closes()));
        out.put("refusals", new TreeMap<>(s.refusals()));
        return out;
    }
}
