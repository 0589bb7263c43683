package dev.handoff.sample;

import dev.handoff.spring.EventStream;
import dev.handoff.spring.HandoffStreams;
import java.util.Map;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * A chat on one topic, broadcast to every open tab. A tab that loses its connection reconnects with
 * {@code Last-Event-ID} and gets what it missed from the topic's replay ring.
 */
@RestController
class ChatController {

    /** One chat message. */
    record Message(String name, String text) {
    }

    private final HandoffStreams streams;

    ChatController(HandoffStreams streams) {
        this.streams = streams;
    }

    @GetMapping(path = "/api/chat/events", produces = "text/event-stream")
    EventStream events() {
        return streams.subscribe("chat");
    }

    @PostMapping("/api/chat")
    ResponseEntity<Map<String, String>> post(@RequestBody Message message) {
        if (message.name() == null || message.name().isBlank() || message.text() == null || message.text().isBlank()) {
            return ResponseEntity.badRequest().body(Map.of("error", "a message needs a name and a text"));
        }
        if (message.name().length() > 40 || message.text().length() > 500) {
            return ResponseEntity.badRequest().body(Map.of("error", "name up to 40 and text up to 500 characters"));
        }
        String id = streams.publish("chat", "message", message);
        return ResponseEntity.ok(Map.of("id", id));
    }
}
