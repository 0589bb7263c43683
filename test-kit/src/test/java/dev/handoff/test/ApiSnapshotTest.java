package dev.handoff.test;

import dev.handoff.core.support.ApiSnapshot;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The kit's public API, one line per type and member, is the checked-in test-kit/api/handoff-test.api. */
class ApiSnapshotTest {

    @Test
    void thePublicApiIsTheCheckedInSnapshot() throws Exception {
        ApiSnapshot.check(SseRecorder.class, Path.of("api", "handoff-test.api"));
    }
}
