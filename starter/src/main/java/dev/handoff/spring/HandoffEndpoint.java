package dev.handoff.spring;

import dev.handoff.registry.ClusterStats;
import dev.handoff.registry.RegistryStats;
import dev.handoff.registry.StreamRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;

/**
 * The actuator endpoint {@code handoff}: topics with their subscriber counts, the registry's counters, and with a
 * cluster its state.
 */
@Endpoint(id = "handoff")
public class HandoffEndpoint {

    private final StreamRegistry registry;

    public HandoffEndpoint(StreamRegistry registry) {
        this.registry = registry;
    }

    /** A cluster's state as a health check or this endpoint shows it. */
    static Map<String, Object> clusterDetails(ClusterStats c) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("connected", c.connected());
        out.put("position", c.position());
        out.put("reconnects", c.reconnects());
        out.put("resets", c.resets());
        out.put("publishFailures", c.publishFailures());
        out.put("localDeliveries", c.localDeliveries());
        out.put("unsharedTopics", c.unsharedTopics());
        out.put("resumes", c.resumes());
        out.putAll(new TreeMap<>(c.details()));
        return out;
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
        registry.clusterStats().ifPresent(c -> out.put("cluster", clusterDetails(c)));
        return out;
    }
}
