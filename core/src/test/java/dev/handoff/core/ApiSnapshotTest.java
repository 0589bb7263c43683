package dev.handoff.core;

import dev.handoff.core.support.ApiSnapshot;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The core's public API, one line per type and member, is the checked-in api/handoff-core.api. */
class ApiSnapshotTest {

    @Test
    void thePublicApiIsTheCheckedInSnapshot() throws Exception {
        ApiSnapshot.check(Handoff.class, Path.of("api", "handoff-core.api"));
    }
}
