package dev.handoff.bench.server;

import java.time.Duration;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.web.embedded.netty.NettyReactiveWebServerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * The WebFlux rewrite on Netty: one multicast sink, each subscriber its own {@code Flux} of
 * {@code ServerSentEvent}s (a slow subscriber misses events rather than holding the others back), a heartbeat
 * merged in. The opening comment commits the head after the subscriber joined the sink.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({ContractController.class, FluxServer.Sse.class})
public class FluxServer {

    static final Sinks.Many<ServerSentEvent<String>> SINK = Sinks.many().multicast().directBestEffort();

    @RestController
    static class Sse {
        @GetMapping(path = "/sse", produces = "text/event-stream")
        Flux<ServerSentEvent<String>> sse() {
            ServerSentEvent<String> open = ServerSentEvent.<String>builder().comment("open").build();
            ServerSentEvent<String> beat = ServerSentEvent.<String>builder().comment("").build();
            Duration every = Duration.ofSeconds(ServerMain.HEARTBEAT_SECONDS);
            return Flux.merge(SINK.asFlux(), Flux.just(open), Flux.interval(every, every).map(t -> beat));
        }
    }

    /** Tomcat and Jetty share the class path: this bean makes Spring Boot serve WebFlux on Netty. */
    @Bean
    NettyReactiveWebServerFactory nettyReactiveWebServerFactory() {
        return new NettyReactiveWebServerFactory();
    }

    @Bean
    Broadcaster broadcaster() {
        return new Broadcaster() {
            @Override
            public int subscribers() {
                return SINK.currentSubscriberCount();
            }

            /** Synchronized: a sink takes one emitting thread at a time. */
            @Override
            public synchronized void send(String topic, String event, String data) {
                ServerSentEvent.Builder<String> e = ServerSentEvent.<String>builder().data(data);
                if (event != null) {
                    e.event(event);
                }
                SINK.tryEmitNext(e.build());
            }
        };
    }
}
