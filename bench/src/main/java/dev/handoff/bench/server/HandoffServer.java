package dev.handoff.bench.server;

import dev.handoff.core.CloseStatus;
import dev.handoff.core.SseEvent;
import dev.handoff.registry.RegistryListener;
import dev.handoff.registry.StreamRegistry;
import dev.handoff.registry.Subscriber;
import dev.handoff.spring.EventStream;
import dev.handoff.spring.HandoffStreams;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Handoff through its Spring Boot starter, the way an application uses it: the controller returns a
 * subscription, the registry broadcasts (one encoding per event), gives every event an id and replays from
 * {@code Last-Event-ID}.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({ContractController.class, HandoffServer.Sse.class, HandoffServer.Debug.class})
public class HandoffServer {

    @RestController
    static class Sse {
        private final HandoffStreams streams;

        Sse(HandoffStreams streams) {
            this.streams = streams;
        }

        @GetMapping(path = "/sse", produces = "text/event-stream")
        EventStream sse(@RequestParam(defaultValue = "bench") String topic) {
            return streams.subscribe(topic);
        }
    }

    /** Every open stream, for {@code /debug/streams}: what a stuck stream's writer and queue look like. */
    static final Set<Subscriber> OPEN = ConcurrentHashMap.newKeySet();

    @Bean
    RegistryListener benchOpenStreams() {
        return new RegistryListener() {
            @Override
            public void onOpen(Subscriber subscriber) {
                OPEN.add(subscriber);
            }

            @Override
            public void onClose(Subscriber subscriber, CloseStatus status) {
                OPEN.remove(subscriber);
            }
        };
    }

    /**
     * {@code /debug/streams}: how many open streams are in each writer state (idle or not, queue empty or not)
     * and live or catching up, the registry's stats, and the first of those not idle, empty and live. For a
     * run that stalls: query it while the bench waits.
     */
    @RestController
    static class Debug {
        private static final Pattern WRITER = Pattern.compile("writer (\\w+), queued (\\d+)");
        private final StreamRegistry registry;

        Debug(StreamRegistry registry) {
            this.registry = registry;
        }

        @GetMapping(path = "/debug/streams", produces = "text/plain")
        String streams() {
            StringBuilder b = new StringBuilder();
            Map<String, Integer> states = new TreeMap<>();
            for (Subscriber s : OPEN) {
                String text = s + " " + s.stream();
                Matcher m = WRITER.matcher(text);
                String key = (m.find() ? m.group(1) + (m.group(2).equals("0") ? " empty" : " queued") : "?")
                        + (text.contains(", live]") ? " live" : " catching up");
                states.merge(key, 1, Integer::sum);
                if (!key.equals("IDLE empty live") && b.length() < 20_000) {
                    b.append(text).append('\n');
                }
            }
            return states + "\n" + registry.stats() + "\n" + b;
        }
    }

    @Bean
    Broadcaster broadcaster(StreamRegistry registry) {
        return new Broadcaster() {
            @Override
            public int subscribers() {
                return registry.stats().openStreams();
            }

            @Override
            public void send(String topic, String event, String data) {
                SseEvent.Builder e = SseEvent.builder().data(data);
                if (event != null) {
                    e.event(event);
                }
                registry.publish(topic, e.build());
            }
        };
    }
}
