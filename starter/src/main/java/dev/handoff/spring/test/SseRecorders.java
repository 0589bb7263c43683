package dev.handoff.spring.test;

import dev.handoff.test.SseRecorder;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.springframework.core.env.Environment;

/**
 * Opens {@link SseRecorder}s against this application's own running server, in a
 * {@code @SpringBootTest(webEnvironment = RANDOM_PORT)} (or {@code DEFINED_PORT}): the local port and the context
 * path are the server's, and events decode their JSON data with the application's own mapper.
 *
 * <pre>{@code
 * @SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
 * class ProgressStreamTest {
 *     @Autowired SseRecorders sse;
 *
 *     @Test
 *     void progressArrives() {
 *         try (SseRecorder progress = sse.open("/tasks/42/progress")) {
 *             progress.assertStatus(200);
 *             assertEquals(10, progress.nextEvent().field("percent"));
 *         }
 *     }
 * }
 * }</pre>
 *
 * The starter declares it when {@code dev.handoff:handoff-test} is on the (test) class path.
 */
public final class SseRecorders {

    private final Environment environment;
    private final Function<String, Map<String, ?>> json;

    public SseRecorders(Environment environment, Function<String, Map<String, ?>> json) {
        this.environment = Objects.requireNonNull(environment, "environment");
        this.json = json;
    }

    /** Opens {@code GET path} (with its query, if any) on the local server. */
    public SseRecorder open(String path) {
        return open(path, Map.of());
    }

    /** Opens {@code GET path} on the local server with these request headers; {@code Last-Event-ID}, say. */
    public SseRecorder open(String path, Map<String, String> headers) {
        Map<String, String> copy = new LinkedHashMap<>(headers);
        return json == null ? SseRecorder.open(uri(path), copy) : SseRecorder.open(uri(path), copy, json);
    }

    /** The URI of {@code path} on the local server: {@code http://127.0.0.1:<local port><context path><path>}. */
    public URI uri(String path) {
        String port = environment.getProperty("local.server.port");
        if (port == null) {
            throw new IllegalStateException("no local server: use @SpringBootTest(webEnvironment = RANDOM_PORT)");
        }
        String context = environment.getProperty("server.servlet.context-path", "");
        return URI.create("http://127.0.0.1:" + port + context + (path.startsWith("/") ? path : "/" + path));
    }
}
