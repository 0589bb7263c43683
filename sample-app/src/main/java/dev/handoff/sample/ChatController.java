package dev.handoff.sample;

import dev.handoff.core.SseEvent;
import dev.handoff.spring.EventDataEncoder;
import dev.handoff.spring.EventStream;
import dev.handoff.spring.HandoffStreams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * A chat on one topic, broadcast to every open tab. A tab that loses its connection reconnects with
 * {@code Last-Event-ID} and gets what it missed from the topic's replay ring.
 *
 * <p>To survive a restart too, messages carry the chat's own ids ({@code chat-<n>}) and are kept in a small
 * file, one per instance ({@code sample.chat.history}, by default {@code <tmp>/handoff-sample-<server.port>/
 * chat-history.log}); on start the last ones are published again, with their ids, so the new registry's ring
 * holds them and a tab that reconnects after the restart is caught up instead of reset.
 *
 * <p>Run as several instances on one Redis ({@code handoff.cluster.enabled=true}), the chat is shared by all of
 * them: a message posted on one reaches the tabs of every one, and Redis keeps the history, so messages carry the
 * cluster's ids and no file is kept (each instance numbering its own would give two messages one id).
 */
@RestController
class ChatController {

    /** One chat message, as posted. */
    record Message(String name, String text) {
    }

    /** A message as the tabs get it: with the time the server took it. */
    record Posted(String name, String text, String at) {
    }

    private static final int KEPT = 200;

    private final HandoffStreams streams;
    private final EventDataEncoder json;
    /** The kept history; null with a cluster, which keeps it. */
    private final Path history;
    private long next;

    ChatController(HandoffStreams streams, EventDataEncoder json,
            @Value("${sample.chat.history:${java.io.tmpdir}/handoff-sample-${server.port:8080}/chat-history.log}") Path history) throws IOException {
        this.streams = streams;
        this.json = json;
        this.history = streams.registry().clusterStats().isPresent() ? null : history;
        if (this.history != null && this.history.getParent() != null) {
            Files.createDirectories(this.history.getParent());
        }
        replayHistory();
    }

    /** Publishes the kept messages again, oldest first, with their ids; keeps only the last {@value #KEPT}. */
    private void replayHistory() throws IOException {
        if (history == null || !Files.exists(history)) {
            return;
        }
        List<String> lines = Files.readAllLines(history, StandardCharsets.UTF_8);
        List<String> kept = lines.subList(Math.max(0, lines.size() - KEPT), lines.size());
        for (String line : kept) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                String id = line.substring(0, tab);
                streams.registry().publish("chat", SseEvent.builder().id(id).event("message")
                        .data(line.substring(tab + 1)).build());
                next = Math.max(next, Long.parseLong(id.substring("chat-".length())));
            }
        }
        Files.write(history, kept, StandardCharsets.UTF_8);
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
        String data = json.encode(new Posted(message.name(), message.text(), Instant.now().toString()));
        if (history == null) {
            // The cluster numbers it; the answer waits for Redis to take it (every instance then delivers it).
            String id = streams.registry().publishAsync("chat", SseEvent.builder().event("message").data(data).build())
                    .toCompletableFuture().join();
            return ResponseEntity.ok(Map.of("id", id));
        }
        String id;
        synchronized (this) {
            id = "chat-" + (++next);
            try {
                Files.writeString(history, id + "\t" + data + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot keep the chat history in " + history, e);
            }
            streams.registry().publish("chat", SseEvent.builder().id(id).event("message").data(data).build());
        }
        return ResponseEntity.ok(Map.of("id", id));
    }
}
