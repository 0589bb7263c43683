package dev.handoff.bench.server;

import dev.handoff.core.SseEvent;
import dev.handoff.registry.StreamRegistry;
import dev.handoff.spring.EventStream;
import dev.handoff.spring.HandoffStreams;
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
@Import({ContractController.class, HandoffServer.Sse.class})
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
