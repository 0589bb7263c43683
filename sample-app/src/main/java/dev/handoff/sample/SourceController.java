package dev.handoff.sample;

import java.io.IOException;
import java.io.InputStream;
import java.util.regex.Pattern;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * The sample's own source, for the page's "the code" links: the build copies {@code src/main/java/.../sample} into
 * the class path ({@code sample-source/}), and this serves a file of it as text. Nothing else is reachable.
 */
@RestController
class SourceController {

    private static final Pattern NAME = Pattern.compile("[A-Z][A-Za-z]{1,60}\\.java");

    @GetMapping("/source/{name}")
    ResponseEntity<byte[]> source(@PathVariable String name) throws IOException {
        if (!NAME.matcher(name).matches()) {
            return ResponseEntity.notFound().build();
        }
        try (InputStream in = SourceController.class.getResourceAsStream("/sample-source/" + name)) {
            if (in == null) {
                return ResponseEntity.notFound().build();
            }
            return ResponseEntity.ok().contentType(new MediaType("text", "plain", java.nio.charset.StandardCharsets.UTF_8))
                    .body(in.readAllBytes());
        }
    }
}
