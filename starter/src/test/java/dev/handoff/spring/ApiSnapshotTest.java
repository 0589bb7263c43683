package dev.handoff.spring;

import dev.handoff.core.support.ApiSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The starter's public API, one line per type and member, is the checked-in starter/api/handoff-spring-boot-starter.api
 * (read from the starter module, or from the module that runs these tests on Spring Boot 4).
 */
class ApiSnapshotTest {

    @Test
    void thePublicApiIsTheCheckedInSnapshot() throws Exception {
        Path here = Path.of("api", "handoff-spring-boot-starter.api");
        Path snapshot = Files.isDirectory(Path.of("api")) ? here : Path.of("..", "starter").resolve(here);
        ApiSnapshot.check(HandoffStreams.class, snapshot);
    }
}
