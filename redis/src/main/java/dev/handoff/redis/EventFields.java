package dev.handoff.redis;

import dev.handoff.core.SseEvent;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An {@link SseEvent} as the fields of a Redis stream entry, and back: one field per part the event has
 * ({@code i} its own id, {@code e} name, {@code d} data, {@code r} retry in milliseconds, {@code c} comment).
 */
final class EventFields {

    private EventFields() {
    }

    static Map<String, String> encode(SseEvent event) {
        Map<String, String> fields = new LinkedHashMap<>(4);
        put(fields, "i", event.id());
        put(fields, "e", event.event());
        put(fields, "d", event.data());
        if (event.retry() != null) {
            fields.put("r", Long.toString(event.retry().toMillis()));
        }
        put(fields, "c", event.comment());
        return fields;
    }

    static SseEvent decode(Map<String, String> fields) {
        SseEvent.Builder b = SseEvent.builder();
        if (fields.containsKey("i")) {
            b.id(fields.get("i"));
        }
        if (fields.containsKey("e")) {
            b.event(fields.get("e"));
        }
        if (fields.containsKey("d")) {
            b.data(fields.get("d"));
        }
        if (fields.containsKey("r")) {
            b.retry(Duration.ofMillis(Long.parseLong(fields.get("r"))));
        }
        if (fields.containsKey("c")) {
            b.comment(fields.get("c"));
        }
        return b.build();
    }

    private static void put(Map<String, String> fields, String name, String value) {
        if (value != null) {
            fields.put(name, value);
        }
    }
}
