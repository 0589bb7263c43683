package dev.handoff.bench.server;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * Spring MVC's {@code SseEmitter} the way its guides use it: emitters in a list, a broadcast loop over them
 * on the publishing thread, a heartbeat comment from a scheduled task so that gone clients are found.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({ContractController.class, EmitterServer.Sse.class})
public class EmitterServer {

    static final List<SseEmitter> EMITTERS = new CopyOnWriteArrayList<>();

    @RestController
    static class Sse {
        private final ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor();

        Sse() {
            heartbeat.scheduleWithFixedDelay(() -> EMITTERS.forEach(e -> send(e, SseEmitter.event().comment(""))),
                    ServerMain.HEARTBEAT_SECONDS, ServerMain.HEARTBEAT_SECONDS, TimeUnit.SECONDS);
        }

        @GetMapping(path = "/sse", produces = "text/event-stream")
        SseEmitter sse() {
            SseEmitter emitter = new SseEmitter(0L);
            emitter.onCompletion(() -> EMITTERS.remove(emitter));
            emitter.onError(t -> EMITTERS.remove(emitter));
            EMITTERS.add(emitter);
            return emitter;
        }
    }

    static void send(SseEmitter emitter, SseEmitter.SseEventBuilder event) {
        try {
            emitter.send(event);
        } catch (IOException | IllegalStateException gone) {
            EMITTERS.remove(emitter);
            emitter.completeWithError(gone);
        }
    }

    @Bean
    Broadcaster broadcaster() {
        return new Broadcaster() {
            @Override
            public int subscribers() {
                return EMITTERS.size();
            }

            @Override
            public void send(String topic, String event, String data) {
                // A builder per emitter: SseEventBuilder.build() appends to the builder, so one shared builder
                // would send each emitter a longer event than the one before (and nothing shares the encoding).
                for (SseEmitter emitter : EMITTERS) {
                    SseEmitter.SseEventBuilder e = SseEmitter.event().data(data);
                    if (event != null) {
                        e.name(event);
                    }
                    EmitterServer.send(emitter, e);
                }
            }
        };
    }
}
