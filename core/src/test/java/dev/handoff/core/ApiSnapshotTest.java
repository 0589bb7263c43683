package dev.handoff.core;

import dev.handoff.core.support.ApiSnapshot;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The core's public API, one line per type and member, is the checked-in api/handoff-core.api; it names no
 * internal type and no type of an optional dependency (Jetty's client), so that neither can leak to users.
 */
class ApiSnapshotTest {

    @Test
    void thePublicApiIsTheCheckedInSnapshot() throws Exception {
        ApiSnapshot.check(Handoff.class, Path.of("api", "handoff-core.api"));
    }

    @Test
    void thePublicApiNamesNoInternalAndNoJettyType() throws Exception {
        ApiSnapshot.checkNamesNone(Handoff.class, "org.eclipse.jetty.");
    }
}
