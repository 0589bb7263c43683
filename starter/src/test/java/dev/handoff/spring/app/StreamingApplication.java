package dev.handoff.spring.app;

import dev.handoff.core.ByteStream;
import dev.handoff.core.CloseStatus;
import dev.handoff.core.SseEvent;
import dev.handoff.proxy.ProxyHooks;
import dev.handoff.proxy.StreamingProxy;
import dev.handoff.registry.RegistryListener;
import dev.handoff.registry.Subscriber;
import dev.handoff.spring.EventStream;
import dev.handoff.spring.HandoffStreams;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/** A Spring Boot application that streams the ways a user would, for the starter's server tests. */
@SpringBootApplication
public class StreamingApplication {

    /** An object sent as event data: encoded by the application's Jackson mapper. */
    public record Progress(String task, int percentDone) {
    }

    @RestController
    static class Streams {

        private final HandoffStreams streams;
        private final StreamingProxy proxy;

        Streams(HandoffStreams streams, StreamingProxy proxy) {
            this.streams = streams;
            this.proxy = proxy;
        }

        /** Proxies to this application's own /hello, standing in for a backend service. */
        @GetMapping("/via-proxy")
        void viaProxy(HttpServletRequest request) {
            proxy.forward(streams.handoff(), URI.create("http://127.0.0.1:" + request.getLocalPort() + "/hello"),
                    ProxyHooks.NONE);
        }

        @GetMapping(path = "/tasks/{id}/progress", produces = "text/event-stream")
        EventStream progress(@PathVariable String id) {
            return streams.subscribe("tasks/" + id);
        }

        /** Partial mode: headers set on the response are sent; an event sent before the handoff goes first. */
        @GetMapping("/partial")
        EventStream partial(HttpServletResponse response) {
            response.setHeader("X-Stream-Kind", "partial");
            EventStream events = streams.sse();
            events.send("hello", new Progress("early", 0));
            return events;
        }

        @GetMapping("/rows")
        ByteStream rows() {
            ByteStream rows = streams.stream("application/x-ndjson");
            rows.write("{\"row\":1}\n");
            rows.write("{\"row\":2}\n");
            rows.close();
            return rows;
        }

        /** Reads an NDJSON upload as it arrives and streams a count back on the same request. */
        @PostMapping("/records")
        EventStream records() {
            EventStream progress = streams.sse();
            streams.body(1 << 20).lines(1024, line -> progress.send("record", line))
                    .whenComplete((n, e) -> {
                        progress.send(e == null ? SseEvent.of("done", n + " records") : SseEvent.of("failed", e.getMessage()));
                        progress.close();
                    });
            return progress;
        }

        @GetMapping("/secure/events")
        EventStream secure() {
            return streams.subscribe("secure");
        }

        @GetMapping("/boom")
        EventStream boom() {
            throw new IllegalStateException("no such task");
        }

        @GetMapping("/hello")
        String hello() {
            return "ok";
        }

        @ExceptionHandler(IllegalStateException.class)
        ResponseEntity<String> notFound(IllegalStateException e) {
            return ResponseEntity.status(HttpStatus.I_AM_A_TEAPOT).body("handled: " + e.getMessage());
        }
    }

    /** Keeps the open streams, so that tests can end them from the server side. */
    public static final class OpenStreams implements RegistryListener {
        private final Set<Subscriber> open = ConcurrentHashMap.newKeySet();

        @Override
        public void onOpen(Subscriber subscriber) {
            open.add(subscriber);
        }

        @Override
        public void onClose(Subscriber subscriber, CloseStatus status) {
            open.remove(subscriber);
        }

        /** Closes, gracefully, every open stream that follows {@code topic} (every stream for null). */
        public void close(String topic) {
            for (Subscriber s : open) {
                if (topic == null || s.topics().contains(topic)) {
                    s.stream().close();
                }
            }
        }
    }

    @Bean
    OpenStreams openStreams() {
        return new OpenStreams();
    }

    @Bean
    SecurityFilterChain security(HttpSecurity http) throws Exception {
        http.authorizeHttpRequests(auth -> auth.requestMatchers("/secure/**").authenticated().anyRequest().permitAll())
                .httpBasic(Customizer.withDefaults())
                .csrf(csrf -> csrf.disable());
        return http.build();
    }

    @Bean
    InMemoryUserDetailsManager users() {
        return new InMemoryUserDetailsManager(User.withUsername("ada").password("{noop}lovelace").roles("USER").build());
    }
}
